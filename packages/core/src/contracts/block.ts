import type * as tfl from '@tensorflow/tfjs-layers';
import type { Shape3 } from '../volume/types.js';
import type { Factory } from './factory.js';

/** Where in a network a block is being placed. */
export interface BlockContext {
  /** Channels of the incoming tensor (channels-last). */
  channels: number;
  /** Stage index: 0 = full resolution, increasing as resolution halves. */
  stage: number;
  /** Total number of resolution stages of the network. */
  stages: number;
  /** Spatial shape of the incoming tensor, [D, H, W]. */
  resolution: Shape3;
  /** Which slot the block fills, e.g. `decoder.afterUpsample`. */
  slot: string;
  /** Prefix for layer names, unique within the model (e.g. `dec3_slot`). */
  namePrefix: string;
}

/**
 * A network building block created for one slot in a tfjs-layers functional model.
 * `apply` receives the symbolic tensor at the slot and returns the tensor that replaces it,
 * with the same shape. Layers must be created inside `apply` (or in `create`) with names
 * starting with `ctx.namePrefix`, and registered for serialisation
 * (`serialization.registerClass`) so models with the block save and load.
 */
export interface Block {
  apply(x: tfl.SymbolicTensor): tfl.SymbolicTensor;
}

/**
 * Registry entry for blocks. `create` may return `null` to leave a slot empty (identity)
 * for a given context, e.g. the axial-attention block skips the full-resolution stage.
 */
export type BlockFactory<O = Record<string, unknown>> = Omit<Factory<Block | null, O>, 'create'> & {
  create(options: O, ctx: BlockContext): Block | null;
};
