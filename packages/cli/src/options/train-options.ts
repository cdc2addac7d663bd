import path from 'node:path';
import type { Command } from 'commander';
import { type ConfigLayer, DA4_AUGMENTATION, type ExperimentConfig, type FlatTrainSettings, flatSettingsToLayer, readRunConfig, resolveExperimentConfig } from '@voxseg/engine';
import { CliError } from '../commands/types.js';
import { collect, intFlag, numberFlag } from './flags.js';

/**
 * The training flags `voxseg train` and `voxseg cv` share, as commander parses them: the flat
 * settings the engine maps onto the experiment config (one home for their names and types),
 * plus the flags that are not settings.
 */
export interface TrainFlags extends FlatTrainSettings {
  out?: string;
  config?: string;
  plugin?: string[];
  /** `da4` or `none` (any other list: the config's `augmentation`). */
  augmentation?: string;
  /** `training.checkpointDecoder` (`--checkpoint-decoder`). */
  checkpointDecoder?: boolean;
  /** `training.checkpointEncoder` (`--checkpoint-encoder`). */
  checkpointEncoder?: boolean;
  /** `training.memoryCheck` (`--no-memory-check`: false). */
  memoryCheck?: boolean;
}

/** Add the shared training flags: shorthands over the experiment config (defaults: the published recipe). */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'experiment config JSON (dataset, augmentation, network, loss, optimizer, scheduler, metrics, sampler, inference, training); flags override it')
    .option('--plugin <module>', 'load a plugin module (npm name or .js/.mjs path; default export: a plugin factory); repeatable', collect)
    .option('--variant <name>', 'network preset: BL, BL+L, BL+GN, BL+L+GN, BL+AA (default BL) = network.name')
    .option('--folds <n>', 'number of folds of the split (default 5)', intFlag('--folds'))
    .option('--epochs <n>', 'epochs (default 1000)', intFlag('--epochs'))
    .option('--iterations <n>', 'iterations per epoch (default 250)', intFlag('--iterations'))
    .option('--val-iterations <n>', 'validation batches per epoch (default 50)', intFlag('--val-iterations'))
    .option('--batch <n>', 'batch size (default 2)', intFlag('--batch'))
    .option('--patch <p>', 'cubic patch edge (default 128)', intFlag('--patch'))
    .option('--base-filters <f>', 'filters of the first stage before the preset\'s encoder width multiplier (L doubles it; default: the preset, 32)', intFlag('--base-filters'))
    .option('--max-filters <f>', 'cap on filters per stage (default: the preset)', intFlag('--max-filters'))
    .option('--stages <s>', 'resolution stages (default: from the patch, at most 6)', intFlag('--stages'))
    .option('--seed <s>', 'seed of the run (default 12345)', intFlag('--seed'))
    .option('--backend <b>', 'auto | tensorflow | webgpu | native | cpu | wasm (default auto)')
    .option('--lr <x>', 'initial learning rate (default 0.01)', numberFlag('--lr'))
    .option('--augmentation <name>', 'da4 | none (default da4); any list: the config\'s augmentation')
    .option('--no-deep-supervision', 'train the full-resolution head only')
    .option('--skip-invalid', 'leave invalid cases out (listed) instead of refusing')
    .option('--checkpoint-decoder', 'recompute the decoder stages in the backward pass instead of keeping their activations: less memory, ~1 more decoder forward per step = training.checkpointDecoder')
    .option('--checkpoint-encoder', 'recompute the encoder stages in the backward pass too (each keeps only its input and skip): less memory, ~1 more encoder forward per step = training.checkpointEncoder')
    .option('--no-memory-check', 'start even when the estimated peak memory exceeds the machine\'s (training.memoryCheck: false)')
    .option('--data-workers <n>', 'threads preparing batches ahead of training (0 = main thread; default 1) = sampler.options.workers', intFlag('--data-workers'))
    .option('--cache-dir <dir>', 'preprocessed-case cache (default <data>/.voxseg-cache) = dataset.options.cacheDir');
}

/** The config layer the flags give (only what was given). */
export function trainFlagsToLayer(flags: TrainFlags): ConfigLayer {
  if (flags.dataWorkers !== undefined && flags.dataWorkers < 0) throw new CliError(`--data-workers: expected a non-negative integer, got ${flags.dataWorkers}`);
  // commander sets `deepSupervision: true` when --no-deep-supervision is absent: only the flag given counts.
  const layer = flatSettingsToLayer({ ...flags, deepSupervision: flags.deepSupervision === false ? false : undefined, skipInvalid: flags.skipInvalid ? true : undefined });
  // Training switches that only the flags spell (no flat config.json ever had them).
  if (flags.checkpointDecoder) layer.training = { ...layer.training, checkpointDecoder: true };
  if (flags.checkpointEncoder) layer.training = { ...layer.training, checkpointEncoder: true };
  if (flags.memoryCheck === false) layer.training = { ...layer.training, memoryCheck: false };
  if (flags.augmentation !== undefined) {
    if (flags.augmentation === 'da4') layer.augmentation = DA4_AUGMENTATION.map((name) => ({ name, options: {} }));
    else if (flags.augmentation === 'none') layer.augmentation = [];
    else throw new CliError(`--augmentation: expected da4 or none, got ${flags.augmentation} (name other augmenters in the config's "augmentation" list)`);
  }
  if (flags.plugin?.length) layer.plugins = flags.plugin.map((p) => absolutePlugin(p));
  return layer;
}

/** File plugins as absolute paths, so a resumed run (or a worker) finds them from anywhere. */
function absolutePlugin(spec: string): string {
  return isFilePlugin(spec) ? path.resolve(spec) : spec;
}

function isFilePlugin(spec: string): boolean {
  return spec.startsWith('.') || path.isAbsolute(spec) || /\.(m?js|cjs)$/.test(spec);
}

/**
 * The run's experiment config: the published defaults, then `--config FILE`, then the flags
 * (a flag that sets an option of a component, e.g. `--cache-dir`, keeps the component the
 * file named). Also the layers the user gave (file, flags; never defaults): on `--resume`
 * only these change the saved run.
 */
export async function resolveTrainFlags(flags: TrainFlags): Promise<{ config: ExperimentConfig; given: ConfigLayer[] }> {
  const fromFile = flags.config ? await readRunConfig(flags.config, `--config ${flags.config}`) : {};
  // A config file's plugin paths are relative to the file.
  if (flags.config && fromFile.plugins) fromFile.plugins = fromFile.plugins.map((p) => (isFilePlugin(p) ? path.resolve(path.dirname(flags.config!), p) : p));
  const fromFlags = trainFlagsToLayer(flags);
  // Plugins from the file and from the flags both load.
  if (fromFlags.plugins && fromFile.plugins?.length) fromFlags.plugins = [...new Set([...fromFile.plugins, ...fromFlags.plugins])];
  const config = resolveExperimentConfig([fromFile, fromFlags], flags.config ? `--config ${flags.config}` : 'flags');
  return { config, given: [fromFile, fromFlags] };
}

/** The shared flags with a value, by TrainFlags key, as the command line spells them. */
const VALUE_FLAGS: [keyof TrainFlags, string][] = [
  ['folds', '--folds'],
  ['epochs', '--epochs'],
  ['iterations', '--iterations'],
  ['valIterations', '--val-iterations'],
  ['batch', '--batch'],
  ['patch', '--patch'],
  ['baseFilters', '--base-filters'],
  ['maxFilters', '--max-filters'],
  ['stages', '--stages'],
  ['seed', '--seed'],
  ['backend', '--backend'],
  ['lr', '--lr'],
  ['augmentation', '--augmentation'],
  ['dataWorkers', '--data-workers'],
  ['cacheDir', '--cache-dir'],
  ['config', '--config'],
];

/**
 * The shared training flags given (not `--data`, `--out`, `--fold` nor `--variant`) back as
 * arguments, so a task started elsewhere (a process pool, a Slurm job) trains exactly as this
 * command would. Paths are made absolute: tasks may run in another folder.
 */
export function trainFlagsToArgs(flags: TrainFlags): string[] {
  const args: string[] = [];
  for (const [key, flag] of VALUE_FLAGS) {
    const v = flags[key];
    if (v === undefined) continue;
    args.push(flag, key === 'cacheDir' || key === 'config' ? path.resolve(String(v)) : String(v));
  }
  if (flags.deepSupervision === false) args.push('--no-deep-supervision');
  if (flags.skipInvalid) args.push('--skip-invalid');
  if (flags.checkpointDecoder) args.push('--checkpoint-decoder');
  if (flags.checkpointEncoder) args.push('--checkpoint-encoder');
  if (flags.memoryCheck === false) args.push('--no-memory-check');
  for (const p of flags.plugin ?? []) args.push('--plugin', absolutePlugin(p));
  return args;
}
