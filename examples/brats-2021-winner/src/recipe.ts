import type { TrainRunConfig } from '@voxseg/cli';

/** The winning recipe as data: which variants, how many folds, how each fold trains, how to infer. */
export interface WinnerRecipe {
  /** Network presets ensembled (REFERENCE.md: BL and BL+L+GN). */
  variants: string[];
  /** Folds per variant; every fold's model joins the ensemble. */
  folds: number;
  /** Per-fold training settings (any `voxseg train` config field). */
  train: Partial<Omit<TrainRunConfig, 'data' | 'out' | 'variant' | 'fold' | 'folds'>>;
  /** Inference: mirroring TTA, window step, ET post-processing threshold (0 = off). */
  inference: { tta: boolean; step: number; etMinVoxels: number };
}

/**
 * The published recipe, for a machine with a GPU (`--backend tensorflow` with tfjs-node-gpu):
 * 1000 epochs x 250 iterations of 128^3 patches, batch 2, per fold; 2 variants x 5 folds =
 * 10 models, ensembled with 8-way mirroring. On this project's 2-core CPU machines a single
 * fold of this would take months: use {@link TINY_RECIPE} there.
 */
export const FULL_RECIPE: WinnerRecipe = {
  variants: ['BL', 'BL+L+GN'],
  folds: 5,
  train: { epochs: 1000, iterations: 250, valIterations: 50, batch: 2, patch: 128, lr: 0.01, augmentation: 'da4', seed: 12345 },
  inference: { tta: true, step: 0.5, etMinVoxels: 200 },
};

/** The same recipe at toy size (tiny networks, a few iterations): what the example's test runs. */
export const TINY_RECIPE: WinnerRecipe = {
  variants: ['BL', 'BL+L+GN'],
  folds: 5,
  // dataWorkers 0: the test runs this from sources, where the worker script (built JS) is absent.
  train: { epochs: 1, iterations: 2, valIterations: 1, batch: 2, patch: 16, baseFilters: 8, maxFilters: 32, augmentation: 'da4', seed: 12345, dataWorkers: 0 },
  inference: { tta: false, step: 0.5, etMinVoxels: 200 },
};
