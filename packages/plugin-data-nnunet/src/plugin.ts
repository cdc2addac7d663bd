import { type Plugin, pluginVersion } from '@voxseg/core';
import { nnunetDatasetFactory } from './dataset/nnunet-dataset.js';

/**
 * The nnU-Net data plugin: registers the `nnunet` dataset (nnU-Net v2 raw folders). Holds no
 * state: creating or registering it twice is harmless.
 *
 * @example
 * ```ts
 * const exp = createExperiment({ plugins: [nnunetPlugin()] });
 * const ds = exp.get('dataset', 'nnunet').create({ root: 'nnUNet_raw/Dataset137_BraTS2021' }, exp);
 * ```
 */
export function nnunetPlugin(): Plugin {
  return {
    name: '@voxseg/plugin-data-nnunet',
    version: pluginVersion(import.meta.url),
    register(ctx) {
      ctx.registerDataset(nnunetDatasetFactory);
    },
  };
}
