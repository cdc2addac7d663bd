import type { Plugin } from '@voxseg/core';
import { augmenterFactories } from './augmentation/index.js';
import { brats2021DatasetFactory } from './dataset/brats-dataset.js';

/**
 * The BraTS data plugin: registers the `brats2021` dataset and every DA4 augmenter
 * (`RandRotate`, ..., `RandMirror`) under its name. Holds no state: creating or
 * registering it twice is harmless.
 *
 * @example
 * ```ts
 * const exp = createExperiment({ plugins: [bratsPlugin()] });
 * const ds = exp.get('dataset', 'brats2021').create({ root: 'data/' }, exp);
 * ```
 */
export function bratsPlugin(): Plugin {
  return {
    name: '@voxseg/plugin-data-brats',
    version: '0.1.0',
    register(ctx) {
      ctx.registerDataset(brats2021DatasetFactory);
      for (const factory of augmenterFactories) ctx.registerAugmenter(factory);
    },
  };
}
