import { type Plugin, pluginVersion } from '@voxseg/core';
import { augmenterFactories } from './augmentation/index.js';
import { brats2021DatasetFactory } from './dataset/brats-dataset.js';
import { patchSamplerFactory } from './sampling/patch-sampler-factory.js';

/**
 * The BraTS data plugin: registers the `brats2021` dataset (detected from a folder of
 * `<id>/<id>_t1.nii.gz` cases), every DA4 augmenter (`RandRotate`, ..., `RandMirror`) under its
 * name, and the `patch` sampler. Holds no state: creating or
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
    version: pluginVersion(import.meta.url),
    register(ctx) {
      ctx.registerDataset(brats2021DatasetFactory);
      for (const factory of augmenterFactories) ctx.registerAugmenter(factory);
      ctx.registerSampler(patchSamplerFactory);
    },
  };
}
