import type { Command } from 'commander';
import { intFlag, numberFlag, type TrainRunConfig } from './train-config.js';

/** The training flags `voxseg train` and `voxseg cv` share, as commander parses them. */
export interface TrainFlags {
  data?: string;
  out?: string;
  variant?: string;
  folds?: number;
  epochs?: number;
  iterations?: number;
  valIterations?: number;
  batch?: number;
  patch?: number;
  baseFilters?: number;
  maxFilters?: number;
  stages?: number;
  seed?: number;
  backend?: string;
  lr?: number;
  augmentation?: string;
  deepSupervision?: boolean;
  skipInvalid?: boolean;
  cacheDir?: string;
  dataWorkers?: number;
}

/** Add the shared training flags (defaults are TRAIN_DEFAULTS, applied by resolveTrainConfig). */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('--variant <name>', 'network preset: BL, BL+L, BL+GN, BL+L+GN, BL+AA (default BL)')
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
    .option('--augmentation <name>', 'da4 | none (default da4)')
    .option('--no-deep-supervision', 'train the full-resolution head only')
    .option('--skip-invalid', 'leave invalid cases out (listed) instead of refusing')
    .option('--data-workers <n>', 'threads preparing batches ahead of training (0 = main thread; default 1)', intFlag('--data-workers'))
    .option('--cache-dir <dir>', 'preprocessed-case cache (default <data>/.voxseg-cache)');
}

/** The config fields the shared flags set (undefined where the flag was not given). */
export function trainFlagsToConfig(flags: TrainFlags): Partial<TrainRunConfig> {
  return {
    data: flags.data,
    out: flags.out,
    variant: flags.variant,
    folds: flags.folds,
    epochs: flags.epochs,
    iterations: flags.iterations,
    valIterations: flags.valIterations,
    batch: flags.batch,
    patch: flags.patch,
    baseFilters: flags.baseFilters,
    maxFilters: flags.maxFilters,
    stages: flags.stages,
    seed: flags.seed,
    backend: flags.backend,
    lr: flags.lr,
    augmentation: flags.augmentation as TrainRunConfig['augmentation'] | undefined,
    deepSupervision: flags.deepSupervision === false ? false : undefined,
    skipInvalid: flags.skipInvalid,
    cacheDir: flags.cacheDir,
    dataWorkers: flags.dataWorkers,
  };
}

/**
 * Only the settings the user gave: the fields of {@link trainFlagsToConfig} whose flag came
 * from the command line (commander's option value source `cli`), not from a default. On
 * `--resume` these, and nothing else, override the saved run's settings.
 */
export function givenTrainFlags(config: Partial<TrainRunConfig>, cmd: Command): Partial<TrainRunConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const source = cmd.getOptionValueSource(key);
    if (value !== undefined && (source === 'cli' || source === 'env')) out[key] = value;
  }
  return out as Partial<TrainRunConfig>;
}
