import { corePlugin, createExperiment, type Experiment, loadPlugin, type Plugin, type PluginSource, pluginSource, withSource } from '@voxseg/core';
import { axialAttentionPlugin } from '@voxseg/plugin-axial-attention';
import { bratsPlugin } from '@voxseg/plugin-data-brats';
import { nnunetPlugin } from '@voxseg/plugin-data-nnunet';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { unetPlugin } from '@voxseg/plugin-unet';
import { EngineError } from '../errors.js';

/**
 * The plugins the engine ships with, in registration order (dependencies first), each with the
 * module and export it comes from so worker threads can load them again.
 */
export function builtinPlugins(): Plugin[] {
  return [
    withSource(corePlugin(), { module: '@voxseg/core', export: 'corePlugin' }),
    withSource(unetPlugin(), { module: '@voxseg/plugin-unet', export: 'unetPlugin' }),
    withSource(axialAttentionPlugin(), { module: '@voxseg/plugin-axial-attention', export: 'axialAttentionPlugin' }),
    withSource(lossesPlugin(), { module: '@voxseg/plugin-losses', export: 'lossesPlugin' }),
    withSource(bratsPlugin(), { module: '@voxseg/plugin-data-brats', export: 'bratsPlugin' }),
    withSource(nnunetPlugin(), { module: '@voxseg/plugin-data-nnunet', export: 'nnunetPlugin' }),
  ];
}

/**
 * Load plugin modules named by the user (`--plugin MODULE`, the config's `plugins`): npm
 * package names or .js/.mjs paths (resolved against `cwd`), each with a default export that
 * is a plugin factory.
 */
export async function loadPluginModules(specifiers: readonly string[], cwd = process.cwd()): Promise<Plugin[]> {
  const out: Plugin[] = [];
  for (const spec of specifiers) {
    let source: PluginSource;
    try {
      source = pluginSource(spec, { cwd });
      out.push(await loadPlugin(source));
    } catch (err) {
      throw new EngineError(`--plugin ${spec}: ${(err as Error).message.replace(/^plugin \S+: /, '')}`);
    }
  }
  return out;
}

/**
 * The experiment the engine runs in: the built-in plugins, then `plugins` (user plugins loaded
 * with {@link loadPluginModules}, or plugin objects). Every part of a run is resolved by name
 * from its registries.
 */
export function createEngineExperiment(plugins: readonly Plugin[] = []): Experiment {
  const experiment = createExperiment({ plugins: builtinPlugins() });
  for (const p of plugins) {
    try {
      experiment.use(p);
    } catch (err) {
      throw new EngineError((err as Error).message);
    }
  }
  return experiment;
}

/** {@link createEngineExperiment} with plugin modules loaded first (the CLI's `--plugin`). */
export async function createEngineExperimentFrom(specifiers: readonly string[], cwd = process.cwd()): Promise<Experiment> {
  return createEngineExperiment(await loadPluginModules(specifiers, cwd));
}
