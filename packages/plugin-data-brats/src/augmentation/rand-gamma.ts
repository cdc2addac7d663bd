import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';
import { drawAroundOne, type Range } from './draw.js';

/** Options of {@link RandGamma}. */
export interface RandGammaOptions {
  /**
   * Probability per sample. Default 0.3 (docs/method.md; nnU-Net `p_gamma = 0.3` in
   * `default_3D_augmentation_params`). The inverted preset uses 0.15 (DA4's inverted
   * `GammaTransform(..., p_per_sample=0.15)`).
   */
  p?: number;
  /**
   * Range of gamma. Default [0.5, 1.6] (docs/method.md; DA4 `gamma_range = (0.5, 1.6)`); half
   * of the draws below 1, half above ({@link drawAroundOne}).
   */
  gammaRange?: Range;
  /** Apply gamma to the negated image (then negate back). Default false; true in the inverted preset. */
  invertImage?: boolean;
  /** One gamma per channel. Default true (DA4 passes `per_channel=True` to both gamma transforms). */
  perChannel?: boolean;
  /** Restore the channel's mean and std afterwards. Default true (nnU-Net `gamma_retain_stats = True`). */
  retainStats?: boolean;
  /** Added to the range before dividing. Default 1e-7 (batchgenerators `augment_gamma` default). */
  epsilon?: number;
}

/** Defaults of {@link RandGamma}; sources in {@link RandGammaOptions}. */
export const RAND_GAMMA_DEFAULTS: Required<RandGammaOptions> = {
  p: 0.3,
  gammaRange: [0.5, 1.6],
  invertImage: false,
  perChannel: true,
  retainStats: true,
  epsilon: 1e-7,
};

/** Defaults of the inverted-gamma preset (DA4 step 7): same transform, image negated, p 0.15. */
export const RAND_GAMMA_INVERTED_DEFAULTS: Required<RandGammaOptions> = { ...RAND_GAMMA_DEFAULTS, p: 0.15, invertImage: true };

/**
 * Gamma of channel `c` of a channels-last image, as batchgenerators' per-channel
 * `augment_gamma`: optionally negate; remember mean and std (population); map
 * `x -> ((x - min) / (range + eps))^gamma * (range + eps) + min`; optionally restore the
 * mean and std (`(x - mean') / (std' + 1e-8) * std + mean`); negate back. Float64 statistics.
 */
export function applyGamma(
  image: Float32Array,
  channels: number,
  c: number,
  gamma: number,
  options: { invertImage: boolean; retainStats: boolean; epsilon: number },
): void {
  const sign = options.invertImage ? -1 : 1;
  const n = image.length / channels;
  // Pass 1: statistics of the (possibly negated) channel.
  let sum = 0;
  let sumSq = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = c; j < image.length; j += channels) {
    const v = sign * image[j]!;
    sum += v;
    sumSq += v * v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  const range = hi - lo + options.epsilon;
  const inv = 1 / range;
  // Pass 2: the gamma map t -> t^gamma on t in [0, 1), and the statistics of its result.
  // Math.pow (or exp(g log t)) per voxel would dominate the whole augmentation pipeline, so
  // t^gamma is read from a 65,537-entry table with linear interpolation for t >= 1/256 (error
  // below 5e-7 relative, under float32 resolution after scaling) and computed exactly below.
  // Channels smaller than the table (< 256k voxels) are computed exactly.
  // Stored negated when inverting, so pass 3 can undo it.
  const useTable = n >= 4 * TABLE_SIZE;
  const table = useTable ? powTable(gamma) : new Float64Array(0);
  let sum2 = 0;
  let sumSq2 = 0;
  for (let j = c; j < image.length; j += channels) {
    const t = (sign * image[j]! - lo) * inv;
    let p: number;
    if (useTable && t >= TABLE_FROM) {
      const u = t * TABLE_SIZE;
      let i = u | 0;
      if (i >= TABLE_SIZE) i = TABLE_SIZE - 1;
      const f = u - i;
      p = table[i]! + f * (table[i + 1]! - table[i]!);
    } else p = t > 0 ? Math.exp(gamma * Math.log(t)) : 0;
    const v = p * range + lo;
    sum2 += v;
    sumSq2 += v * v;
    image[j] = v;
  }
  if (options.retainStats) {
    const mean2 = sum2 / n;
    const std2 = Math.sqrt(Math.max(0, sumSq2 / n - mean2 * mean2));
    const k = std / (std2 + 1e-8);
    // Pass 3: restore mean and std, and undo the negation.
    for (let j = c; j < image.length; j += channels) image[j] = sign * ((image[j]! - mean2) * k + mean);
  } else if (sign < 0) {
    for (let j = c; j < image.length; j += channels) image[j] = -image[j]!;
  }
}

const TABLE_SIZE = 65536;
const TABLE_FROM = 1 / 256;

/** (i / TABLE_SIZE)^gamma for i = 0..TABLE_SIZE. */
function powTable(gamma: number): Float64Array {
  const t = new Float64Array(TABLE_SIZE + 1);
  for (let i = 1; i <= TABLE_SIZE; i++) t[i] = Math.exp(gamma * Math.log(i / TABLE_SIZE));
  return t;
}

/**
 * Random gamma per channel (batchgenerators `GammaTransform`). The inverted variant of DA4 is
 * this class with `invertImage: true` and `p: 0.15` (factory `RandGammaInverted`).
 */
export class RandGamma extends defineAugmenter<RandGammaOptions>({
  name: 'RandGamma',
  kind: 'intensity',
  description: 'Gamma per channel, mean and std retained (DA4: 0.5-1.6, p 0.3)',
  defaults: RAND_GAMMA_DEFAULTS,
  nameFor: (o) => (o.invertImage ? 'RandGammaInverted' : 'RandGamma'),
  validate: (o, check) => {
    const gammaRange = check.range('gammaRange', o.gammaRange, 'positive');
    if (!(o.epsilon >= 0)) check.invalid('epsilon', 'must be >= 0', o.epsilon);
    return {
      p: check.probability('p', o.p),
      gammaRange,
      invertImage: Boolean(o.invertImage),
      perChannel: Boolean(o.perChannel),
      retainStats: Boolean(o.retainStats),
      epsilon: o.epsilon,
    };
  },
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, gammaRange, perChannel } = this.options;
    if (!chance(rng, p)) return;
    if (perChannel) {
      for (let c = 0; c < sample.channels; c++) applyGamma(sample.image, sample.channels, c, drawAroundOne(rng, gammaRange), this.options);
    } else {
      // batchgenerators' non-per-channel gamma uses whole-sample statistics; treating the
      // sample as a single channel reproduces that.
      applyGamma(sample.image, 1, 0, drawAroundOne(rng, gammaRange), this.options);
    }
  }
}

/** Registry entry for {@link RandGamma}. */
export const randGammaFactory: AugmenterFactory<RandGammaOptions> = RandGamma.factory();

/** Registry entry for the inverted-gamma preset of {@link RandGamma}. */
export const randGammaInvertedFactory: AugmenterFactory<RandGammaOptions> = {
  name: 'RandGammaInverted',
  description: 'Gamma on the negated image, mean and std retained (DA4: 0.5-1.6, p 0.15)',
  defaults: RAND_GAMMA_INVERTED_DEFAULTS,
  create: (options) => new RandGamma({ ...RAND_GAMMA_INVERTED_DEFAULTS, ...options }),
};
