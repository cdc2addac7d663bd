import * as tfl from '@tensorflow/tfjs-layers';
import { type Block, type BlockContext, type BlockFactory, Rng } from '@voxseg/core';
import { AxialAttention3D } from '../layers/axial-attention-3d.js';
import { AxialPositionalEmbedding } from '../layers/axial-positional-embedding.js';

/**
 * Options of the `axial-attention` block (pass them as the U-Net's `decoderBlockOptions`).
 * The defaults reproduce the BraTS 2021 winners' decoder (docs/method.md "Axial-attention
 * decoder"): the stage `d` halvings below full resolution gets `2 * 2^d` heads of
 * `8 * 2^d` dims for `1 <= d <= 4`, i.e. 4x16 at 64^3, 8x32 at 32^3, 16x64 at 16^3 and
 * 32x128 at 8^3 for a 128^3 patch, and nothing at full resolution.
 */
export interface AxialAttentionBlockOptions {
  /** Heads at stage `d` are `baseHeads * 2^d`. Default `2`. */
  baseHeads?: number;
  /** Head width at stage `d` is `baseDimHead * 2^d`. Default `8`. */
  baseDimHead?: number;
  /** Lowest stage that gets attention (0 = full resolution). Default `1`. */
  minStage?: number;
  /** Highest stage that gets attention. Default `4` (the 8^3 stage of a 128^3 patch). */
  maxStage?: number;
  /**
   * Seed of the layers' initial weights. Each block draws its layers' seeds from a core
   * `Rng` seeded with `"<seed>:<namePrefix>"`, so blocks differ from each other and the same
   * seed rebuilds the same network. Default `0`.
   */
  seed?: number;
}

/** Defaults of {@link AxialAttentionBlockOptions}. */
export const AXIAL_ATTENTION_BLOCK_DEFAULTS: Required<AxialAttentionBlockOptions> = {
  baseHeads: 2,
  baseDimHead: 8,
  minStage: 1,
  maxStage: 4,
  seed: 0,
};

/**
 * Heads and head width of the block at `stage`, or `null` when the stage gets no attention.
 * With the defaults: stage 1 -> 4 x 16, 2 -> 8 x 32, 3 -> 16 x 64, 4 -> 32 x 128.
 */
export function axialAttentionShapeAt(
  stage: number,
  options: AxialAttentionBlockOptions = {},
): { heads: number; dimHead: number } | null {
  const o = { ...AXIAL_ATTENTION_BLOCK_DEFAULTS, ...options };
  if (stage < o.minStage || stage > o.maxStage) return null;
  return { heads: o.baseHeads * 2 ** stage, dimHead: o.baseDimHead * 2 ** stage };
}

function checkOptions(o: Required<AxialAttentionBlockOptions>): void {
  for (const key of ['baseHeads', 'baseDimHead'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new Error(`axial-attention block: ${key} must be a positive integer, got ${JSON.stringify(o[key])}`);
    }
  }
  for (const key of ['minStage', 'maxStage'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) {
      throw new Error(`axial-attention block: ${key} must be an integer >= 0, got ${JSON.stringify(o[key])}`);
    }
  }
  if (typeof o.seed !== 'number' || !Number.isFinite(o.seed)) {
    throw new Error(`axial-attention block: seed must be a finite number, got ${JSON.stringify(o.seed)}`);
  }
}

/**
 * The `axial-attention` block factory. At a stage that gets attention, the block maps the
 * slot's tensor `x` to `AxialAttention3D(AxialPositionalEmbedding(x)) + x`, as the reference
 * decoder does right after each transposed conv and before the concatenation with the skip
 * (docs/method.md "Axial-attention decoder"; the winners' `Generic_UNet.forward`). Layers are named
 * `<namePrefix>_axial_posemb`, `<namePrefix>_axial_attention`, `<namePrefix>_axial_residual`.
 * Meant for the U-Net's `decoder.afterUpsample` slot, but any 5-D channels-last slot works.
 */
export const axialAttentionBlock: BlockFactory<AxialAttentionBlockOptions> = {
  name: 'axial-attention',
  description: 'axial positional embedding + sequential D/H/W multi-head self-attention, residual (BL+AA decoder)',
  defaults: AXIAL_ATTENTION_BLOCK_DEFAULTS,
  create(options: AxialAttentionBlockOptions, ctx: BlockContext): Block | null {
    const o = { ...AXIAL_ATTENTION_BLOCK_DEFAULTS, ...options };
    checkOptions(o);
    const shape = axialAttentionShapeAt(ctx.stage, o);
    if (!shape) return null;
    const prefix = ctx.namePrefix;
    return {
      apply(x: tfl.SymbolicTensor): tfl.SymbolicTensor {
        const want = [...ctx.resolution, ctx.channels];
        if (x.shape.length !== 5 || want.some((v, i) => x.shape[i + 1] !== v)) {
          throw new Error(
            `axial-attention block ${prefix}: expected [N, ${want.join(', ')}] from the slot context, got [${x.shape.join(', ')}]`,
          );
        }
        const rng = new Rng(`${o.seed}:${prefix}`);
        const posemb = new AxialPositionalEmbedding({ name: `${prefix}_axial_posemb`, seed: rng.nextUint32() });
        const attention = new AxialAttention3D({ name: `${prefix}_axial_attention`, ...shape, seed: rng.nextUint32() });
        const attended = attention.apply(posemb.apply(x)) as tfl.SymbolicTensor;
        return tfl.layers.add({ name: `${prefix}_axial_residual` }).apply([attended, x]) as tfl.SymbolicTensor;
      },
    };
  },
};
