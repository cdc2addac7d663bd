import type { ComponentSpec, Dataset, DatasetFactory, ExperimentContext } from '@voxseg/core';
import { promises as fs } from 'node:fs';
import { EngineError } from '../errors.js';

/**
 * The dataset factory for a folder: the one named in `component`, or with `auto` the first
 * registered dataset (in name order) whose `detect(root)` recognises the folder.
 * @param flag what to name in errors (`--data`, `--input`, `--gt`)
 */
export async function datasetFactoryFor(experiment: ExperimentContext, component: Pick<ComponentSpec, 'name'>, root: string, flag = '--data'): Promise<DatasetFactory> {
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) throw new EngineError(`${flag} ${root}: not a folder`);
  const registry = experiment.registry('dataset');
  if (component.name !== 'auto') {
    try {
      return registry.get(component.name);
    } catch (err) {
      throw new EngineError(`dataset.name: ${(err as Error).message}`);
    }
  }
  for (const factory of registry.values()) {
    if (factory.detect && (await factory.detect(root))) return factory;
  }
  throw new EngineError(
    `${flag} ${root}: no case folders found in a format a registered dataset recognises (${registry.names().join(', ') || 'none registered'}); see voxseg check --data ${root}, or name the dataset in the config ("dataset": { "name": ... })`,
  );
}

/**
 * Create the dataset of a folder (see {@link datasetFactoryFor}) with the config's options and
 * the options the engine sets (`root`, `readOnly`, `run`: see core's `DatasetFactory`).
 */
export async function openDataset(
  experiment: ExperimentContext,
  component: ComponentSpec,
  root: string,
  options: { flag?: string; readOnly?: boolean; run?: string } = {},
): Promise<{ dataset: Dataset; name: string }> {
  const factory = await datasetFactoryFor(experiment, component, root, options.flag);
  const opts = {
    ...(factory.defaults ?? {}),
    ...(component.name === factory.name ? component.options ?? {} : {}),
    root,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.run ? { run: options.run } : {}),
  };
  try {
    return { dataset: factory.create(opts, experiment), name: factory.name };
  } catch (err) {
    throw new EngineError(`${options.flag ?? '--data'} ${root}: ${(err as Error).message}`);
  }
}
