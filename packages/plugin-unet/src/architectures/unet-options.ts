import type { NetworkOptions, Rng } from '@voxseg/core';
import { NORM_KINDS, type NormKind } from '../layers/norm-layer.js';

/**
 * Options of the `unet` builder: nnU-Net's 3-D `Generic_UNet`, channels-last. Every
 * variant (BL, L, GN, AA) is a set of these options; nothing in the builder branches on a
 * variant's name. Defaults reproduce BL (docs/method.md "Network").
 */
export interface UnetOptions extends NetworkOptions {
  /** Width of the first stage before `widthMultiplier`. Default `32`. */
  baseFilters?: number;
  /** Cap on every encoder stage's width. Default `320` (BL); `512` for L. */
  maxFilters?: number;
  /**
   * Multiplies the encoder widths before the cap: stage `s` has
   * `min(baseFilters * widthMultiplier * 2^s, maxFilters)` channels. Default `1`;
   * `2` for L (64, 128, 256, 512, 512, 512 with `maxFilters` 512).
   */
  widthMultiplier?: number;
  /**
   * Width of the last conv of each decoder stage as a fraction of the stage's skip width (the
   * transposed conv and the other convs output the skip's width). Default `1` (BL: 320, 256,
   * 128, 64, 32 from 8^3 up); `0.5` for L, whose reference code halves it (256, 256, 128, 64,
   * 32 after skips of 512, 512, 256, 128, 64). The next stage's transposed conv and the
   * stage's head read this width.
   */
  decoderSecondConvRatio?: number;
  /** Convs per encoder stage and per decoder stage. Default `2`. */
  convsPerStage?: number;
  /**
   * Number of resolution stages. Default: from the patch, halving while the halved edge is at
   * least `minEdge` (and the edge is even), at most `maxStages`: 128 -> 6, 64 -> 5, 48 -> 4.
   */
  stages?: number;
  /** Upper bound on the automatic stage count. Default `6`. */
  maxStages?: number;
  /** Smallest edge of the lowest-resolution stage for the automatic stage count. Default `4`. */
  minEdge?: number;
  /** Normalisation after every conv. Default `'batch'` (BL); `'group'` for the GN variants. */
  norm?: NormKind;
  /** Groups of `norm: 'group'`. Default `32` (capped at the channel count). */
  groups?: number;
  /** Norm epsilon. Default `1e-5`. */
  epsilon?: number;
  /** BatchNorm momentum, PyTorch convention. Default `0.1`. */
  momentum?: number;
  /** LeakyReLU slope, also the `a` of the He init. Default `0.01`. */
  negativeSlope?: number;
  /** One logits head per decoder stage (highest resolution first) when true. Default `true`. */
  deepSupervision?: boolean;
  /**
   * Name of a registered Block filling the `decoder.afterUpsample` slot: applied to the
   * transposed-conv output of every decoder stage, before the concatenation with the skip
   * (the axial-attention plugin fills it). Default: none (identity). Resolved with
   * `ctx.get('block', name)`; the factory may return `null` for stages it skips.
   */
  decoderBlock?: string;
  /** Options for the decoder block's factory (merged over its `defaults`). */
  decoderBlockOptions?: Record<string, unknown>;
  /** Source of the He-init weights. Default `new Rng(seed)`. */
  rng?: Rng;
  /** Seed used when no `rng` is given. Default `0`. */
  seed?: number;
  /**
   * Draw the He init. Default `true`. `false` leaves conv kernels at zero: only for inspecting
   * shapes and counts (model-summary), where drawing 87M normals would be wasted time.
   */
  initialize?: boolean;
  /** Model name. Default `'unet'`. */
  name?: string;
}

/** {@link UnetOptions} with every default applied and the derived geometry. */
export interface ResolvedUnet {
  inChannels: number;
  outChannels: number;
  patch: [number, number, number];
  stages: number;
  /** Encoder width per stage, full resolution first. */
  widths: number[];
  /** Width of the last conv of each decoder stage, indexed by stage (stages - 1 is unused). */
  decoderOutWidths: number[];
  convsPerStage: number;
  norm: NormKind;
  groups: number;
  epsilon: number;
  momentum: number;
  negativeSlope: number;
  deepSupervision: boolean;
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`unet: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Stages the patch allows: halve while the half is an integer >= minEdge, at most maxStages. */
export function stagesForPatch(patch: readonly number[], maxStages = 6, minEdge = 4): number {
  let stages = 1;
  let edges = [...patch];
  while (stages < maxStages && edges.every((e) => e % 2 === 0 && e / 2 >= minEdge)) {
    edges = edges.map((e) => e / 2);
    stages++;
  }
  return stages;
}

/** Apply defaults, derive stages and widths, and validate. Errors name the option. */
export function resolveUnetOptions(options: UnetOptions): ResolvedUnet {
  const inChannels = positiveInt(options.inChannels, 'inChannels');
  const outChannels = positiveInt(options.outChannels, 'outChannels');
  const ps = options.patchSize;
  const patch = (typeof ps === 'number' ? [ps, ps, ps] : ps) as [number, number, number];
  if (!Array.isArray(patch) || patch.length !== 3) {
    throw new Error(`unet: patchSize must be a number or [D, H, W], got ${JSON.stringify(ps)}`);
  }
  patch.forEach((e, i) => positiveInt(e, `patchSize[${i}]`));
  const maxStages = positiveInt(options.maxStages ?? 6, 'maxStages');
  const minEdge = positiveInt(options.minEdge ?? 4, 'minEdge');
  const stages = options.stages === undefined ? stagesForPatch(patch, maxStages, minEdge) : positiveInt(options.stages, 'stages');
  const factor = 2 ** (stages - 1);
  if (patch.some((e) => e % factor !== 0)) {
    throw new Error(`unet: patchSize ${patch.join('x')} is not divisible by 2^${stages - 1} for ${stages} stages`);
  }
  if (stages < 2) throw new Error(`unet: at least 2 stages are needed, patch ${patch.join('x')} gives ${stages}`);
  const base = positiveInt(options.baseFilters ?? 32, 'baseFilters');
  const maxFilters = positiveInt(options.maxFilters ?? 320, 'maxFilters');
  const mult = options.widthMultiplier ?? 1;
  if (!(mult > 0)) throw new Error(`unet: widthMultiplier must be > 0, got ${mult}`);
  const widths = Array.from({ length: stages }, (_, s) => Math.min(Math.round(base * mult * 2 ** s), maxFilters));
  const ratio = options.decoderSecondConvRatio ?? 1;
  if (!(ratio > 0)) throw new Error(`unet: decoderSecondConvRatio must be > 0, got ${ratio}`);
  const decoderOutWidths = widths.map((w) => Math.max(1, Math.round(w * ratio)));
  const norm = options.norm ?? 'batch';
  if (!NORM_KINDS.includes(norm)) {
    throw new Error(`unet: norm must be one of ${NORM_KINDS.join(', ')}, got ${JSON.stringify(norm)}`);
  }
  return {
    inChannels,
    outChannels,
    patch,
    stages,
    widths,
    decoderOutWidths,
    convsPerStage: positiveInt(options.convsPerStage ?? 2, 'convsPerStage'),
    norm,
    groups: positiveInt(options.groups ?? 32, 'groups'),
    epsilon: options.epsilon ?? 1e-5,
    momentum: options.momentum ?? 0.1,
    negativeSlope: options.negativeSlope ?? 0.01,
    deepSupervision: options.deepSupervision ?? true,
  };
}
