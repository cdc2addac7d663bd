import { promises as fs } from 'node:fs';
import { EngineError } from '../errors.js';
import { isLegacyConfig, legacyConfigToLayer } from './legacy-config.js';
import { type ConfigLayer, parseConfigLayer } from './validate-config.js';

/**
 * Read an experiment config file (`--config FILE`, or a run's `config.json`) as a layer:
 * the current form, or the flat form older runs wrote (converted). The `run` record a run
 * adds (backend, plugins, time) is ignored, so a run's config.json can start a new run.
 * @param label how to name the file in errors (default: the path)
 */
export async function readRunConfig(file: string, label = file): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new EngineError(`${label}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EngineError(`${label}: not valid JSON (${(err as Error).message})`);
  }
  if (isLegacyConfig(value)) return legacyConfigToLayer(value);
  return parseConfigLayer(value, label);
}
