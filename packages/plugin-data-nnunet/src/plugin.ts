import type { Plugin } from '@voxseg/core';
import { createRequire } from 'node:module';
import { nnunetDatasetFactory } from './dataset/nnunet-dataset.js';

/** This package's version, from its package.json (one level above both `src/` and `dist/`). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

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
    version: packageVersion(),
    register(ctx) {
      ctx.registerDataset(nnunetDatasetFactory);
    },
  };
}
