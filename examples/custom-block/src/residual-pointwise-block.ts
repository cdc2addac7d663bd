import * as tfl from '@tensorflow/tfjs-layers';
import type { Block, BlockContext, BlockFactory } from '@voxseg/core';

/** Options of the `residual-pointwise` block. */
export interface ResidualPointwiseOptions {
  /** Leave the block out at stages below this one (0 = full resolution). Default 1: not at full resolution, where it costs most. */
  fromStage?: number;
}

/**
 * A user-defined decoder block: `x + conv1x1x1(x)`, a learned per-voxel channel mixing with a
 * residual connection. It is built only from tfjs-layers' own serialisable layers, so models
 * that use it save and load with no extra registration.
 *
 * The U-Net calls `create` once per decoder stage for the slot `decoder.afterUpsample`, with
 * the stage's channels and resolution; returning `null` leaves that stage unchanged.
 */
export const residualPointwiseBlock: BlockFactory<ResidualPointwiseOptions> = {
  name: 'residual-pointwise',
  description: 'x + conv1x1x1(x) after each decoder upsampling (example block)',
  defaults: { fromStage: 1 },
  create(options: ResidualPointwiseOptions, ctx: BlockContext): Block | null {
    if (ctx.stage < (options.fromStage ?? 1)) return null;
    return {
      apply(x: tfl.SymbolicTensor): tfl.SymbolicTensor {
        const mixed = tfl.layers
          .conv3d({
            filters: ctx.channels,
            kernelSize: 1,
            padding: 'same',
            // Start as the identity's residual: zero mixing, so the block does not disturb
            // the U-Net's initialisation.
            kernelInitializer: 'zeros',
            name: `${ctx.namePrefix}_pointwise`,
          })
          .apply(x) as tfl.SymbolicTensor;
        return tfl.layers.add({ name: `${ctx.namePrefix}_residual` }).apply([x, mixed]) as tfl.SymbolicTensor;
      },
    };
  },
};
