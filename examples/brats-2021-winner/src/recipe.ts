import type { ConfigLayer } from '@voxseg/engine';

/** The winning recipe as data: which variants, how many folds, how each fold trains, how to infer. */
export interface WinnerRecipe {
  /** Network presets ensembled (docs/method.md: BL and BL+L+GN). */
  variants: string[];
  /** Folds per variant; every fold's model joins the ensemble. */
  folds: number;
  /** Per-fold experiment config (any key of `voxseg train --config`; dataset, network and fold are set per run). */
  train: ConfigLayer;
  /** Inference: mirroring TTA, window step, the dataset's post-processing options (false = off). */
  inference: { tta: boolean; step: number; postprocess: Record<string, unknown> | false };
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
  // The engine's defaults are this recipe (DA4, SGD + Nesterov, poly, dice-bce with deep supervision).
  train: { training: { epochs: 1000, iterations: 250, valIterations: 50, batch: 2, patch: 128, lr: 0.01, seed: 12345 } },
  inference: { tta: true, step: 0.5, postprocess: { minVoxels: 200 } },
};

/** The same recipe at toy size (tiny networks, a few iterations): what the example's test runs. */
export const TINY_RECIPE: WinnerRecipe = {
  variants: ['BL', 'BL+L+GN'],
  folds: 5,
  // workers 0: the test runs this from sources, where the worker script (built JS) is absent.
  train: {
    training: { epochs: 1, iterations: 2, valIterations: 1, batch: 2, patch: 16, seed: 12345 },
    network: { name: 'BL', options: { baseFilters: 8, maxFilters: 32 } },
    sampler: { name: 'patch', options: { workers: 0 } },
  },
  inference: { tta: false, step: 0.5, postprocess: { minVoxels: 200 } },
};
