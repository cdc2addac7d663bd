import type { Plugin } from '@voxseg/core';
import { residualPointwiseBlock } from './residual-pointwise-block.js';

/** The example's plugin: registers one Block. A pure factory, so registering it twice is harmless. */
export const customBlockPlugin = (): Plugin => ({
  name: '@voxseg/example-custom-block',
  version: '0.1.0',
  register(ctx) {
    ctx.registerBlock(residualPointwiseBlock);
  },
});
