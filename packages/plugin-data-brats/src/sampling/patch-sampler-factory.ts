import type { SamplerFactory } from '@voxseg/core';
import { augmentersFromRegistry } from '../augmentation/augmenter-specs.js';
import { PatchBatchProvider } from './patch-batch-provider.js';
import { WorkerBatchProvider } from './worker-batch-provider.js';

/** Options of the `patch` sampler. */
export interface PatchSamplerFactoryOptions {
  /** Fraction of each batch centred on foreground (nnU-Net's `oversample_foreground_percent`). Default 0.33. */
  oversampleForegroundPercent?: number;
  /**
   * Worker threads that sample and augment training batches ahead of the trainer (0: in the
   * calling thread; the batches are the same either way). Validation batches are always
   * prepared in the calling thread. Default 1.
   */
  workers?: number;
}

/**
 * Registry entry `patch`: nnU-Net's patch sampler with foreground oversampling and the
 * request's augmenters, resolved through the experiment's registry. With `workers > 0` the
 * batches are computed in worker threads that load the experiment's plugin modules, so their
 * registries (a user plugin's augmenters included) equal the calling thread's.
 */
export const patchSamplerFactory: SamplerFactory<PatchSamplerFactoryOptions> = {
  name: 'patch',
  description: "nnU-Net's patch sampler (foreground oversampling 0.33), augmenters by name, optional worker threads",
  defaults: { oversampleForegroundPercent: 0.33, workers: 1 },
  create(options, request, ctx) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 0) throw new Error(`sampler.options.workers: expected a non-negative integer, got ${JSON.stringify(options.workers)}`);
    const common = {
      cases: request.cases,
      targets: request.targets,
      patchSize: request.patchSize,
      batchSize: request.batchSize,
      seed: request.seed,
      oversampleForegroundPercent: options.oversampleForegroundPercent ?? 0.33,
    };
    if (workers > 0) {
      return new WorkerBatchProvider({ ...common, augmentation: request.augmentation.map((a) => ({ name: a.name, options: a.options ?? {} })), plugins: [...request.plugins], experiment: ctx, workers });
    }
    return new PatchBatchProvider({ ...common, augmenters: augmentersFromRegistry(request.augmentation, ctx) });
  },
};
