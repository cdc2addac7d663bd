import { CliError } from '../commands/types.js';

/**
 * Everything that defines one training run (one fold). Written to `<run>/config.json`; the
 * defaults are the published recipe (REFERENCE.md "Training"), so a config with only `data`
 * and `out` is the full BraTS 2021 schedule for a GPU machine. The CLI flags and a
 * `--config FILE.json` override these fields.
 */
export interface TrainRunConfig {
  /** BraTS-layout data folder. */
  data: string;
  /** Run folder (config.json, events.jsonl, checkpoints/, model/, metrics.json, plots/, report.html). */
  out: string;
  /** Network preset name (`BL`, `BL+L`, `BL+GN`, `BL+L+GN`, `BL+AA`, or one a plugin registered). Default `BL`. */
  variant: string;
  /** Fold index 0..folds-1 of the 5-fold split (seed 12345 over sorted ids). Default 0. */
  fold: number;
  /** Number of folds. Default 5. */
  folds: number;
  /** Epochs. Default 1000. */
  epochs: number;
  /** Training iterations per epoch. Default 250. */
  iterations: number;
  /** Validation batches per epoch (pseudo-Dice). Default 50. */
  valIterations: number;
  /** Batch size. Default 2. */
  batch: number;
  /** Cubic patch edge. Default 128. */
  patch: number;
  /** Filters of the first stage (overrides the preset). Default: the preset's (32). */
  baseFilters?: number;
  /** Cap on filters per stage (overrides the preset). Default: the preset's. */
  maxFilters?: number;
  /** Number of resolution stages (overrides the rule derived from the patch). */
  stages?: number;
  /** Seed of every random decision of the run. Default 12345. */
  seed: number;
  /** tfjs backend: auto | native | cpu | wasm | tensorflow. Default auto. */
  backend: string;
  /** Initial learning rate. Default 0.01. */
  lr: number;
  /** Augmentation preset: `da4` (the winners') or `none`. Default da4. */
  augmentation: 'da4' | 'none';
  /** Loss options (nnU-Net DC_and_BCE_loss with batch Dice, smooth 0). */
  loss: { batchDice: boolean; smooth: number };
  /** Deep supervision (weights 8/15, 4/15, 2/15, 1/15, 0 at 5 heads). Default true. */
  deepSupervision: boolean;
  /** Skip cases that fail validation instead of refusing to train. Default false. */
  skipInvalid: boolean;
  /**
   * Worker threads that sample and augment training batches ahead of the trainer, so data
   * preparation overlaps with compute. 0 prepares batches in the main thread (same batches:
   * they are a pure function of the seed and their index). Default 1.
   */
  dataWorkers: number;
  /** Preprocessed-case cache folder. Default `<data>/.voxseg-cache`. */
  cacheDir?: string;
  /** Free text, kept in config.json. */
  note?: string;
}

export const TRAIN_DEFAULTS: Omit<TrainRunConfig, 'data' | 'out'> = {
  variant: 'BL',
  fold: 0,
  folds: 5,
  epochs: 1000,
  iterations: 250,
  valIterations: 50,
  batch: 2,
  patch: 128,
  seed: 12345,
  backend: 'auto',
  lr: 0.01,
  augmentation: 'da4',
  loss: { batchDice: true, smooth: 0 },
  deepSupervision: true,
  skipInvalid: false,
  dataWorkers: 1,
};

/** Merge defaults, a config file's fields and explicit flags (flags win), then validate. */
export function resolveTrainConfig(...layers: Partial<TrainRunConfig>[]): TrainRunConfig {
  const merged: Record<string, unknown> = { ...TRAIN_DEFAULTS };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  }
  const c = merged as unknown as TrainRunConfig;
  if (!c.data) throw new CliError('--data DIR is required');
  if (!c.out) throw new CliError('--out RUN is required');
  positiveInt(c.epochs, '--epochs');
  positiveInt(c.iterations, '--iterations');
  nonNegativeInt(c.valIterations, '--val-iterations');
  positiveInt(c.batch, '--batch');
  positiveInt(c.patch, '--patch');
  positiveInt(c.folds, '--folds');
  nonNegativeInt(c.fold, '--fold');
  if (c.fold >= c.folds) throw new CliError(`--fold: expected 0..${c.folds - 1}, got ${c.fold}`);
  if (c.patch < 8) throw new CliError(`--patch: expected at least 8, got ${c.patch}`);
  if (c.baseFilters !== undefined) positiveInt(c.baseFilters, '--base-filters');
  if (c.maxFilters !== undefined) positiveInt(c.maxFilters, '--max-filters');
  if (c.stages !== undefined) positiveInt(c.stages, '--stages');
  if (!Number.isInteger(c.seed)) throw new CliError(`--seed: expected an integer, got ${c.seed}`);
  if (!(c.lr > 0)) throw new CliError(`--lr: expected a positive number, got ${c.lr}`);
  if (!Number.isInteger(c.dataWorkers) || c.dataWorkers < 0) throw new CliError(`--data-workers: expected a non-negative integer, got ${c.dataWorkers}`);
  if (c.augmentation !== 'da4' && c.augmentation !== 'none') {
    throw new CliError(`augmentation: expected da4 or none, got ${String(c.augmentation)}`);
  }
  return c;
}

function positiveInt(v: number, flag: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new CliError(`${flag}: expected a positive integer, got ${v}`);
}
function nonNegativeInt(v: number, flag: string): void {
  if (!Number.isInteger(v) || v < 0) throw new CliError(`${flag}: expected a non-negative integer, got ${v}`);
}

/** Parse an integer flag value, naming the flag on error (commander passes strings). */
export function intFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new CliError(`${flag}: expected an integer, got "${value}"`);
    return n;
  };
}

/** Parse a number flag value, naming the flag on error. */
export function numberFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag}: expected a number, got "${value}"`);
    return n;
  };
}
