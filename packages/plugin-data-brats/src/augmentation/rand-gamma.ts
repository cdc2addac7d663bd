import type { Augmenter, AugmenterFactory, Rng, Sample } from '@voxseg/core';
import { checkProbability, checkRange, drawAroundOne, type Range } from './draw.js';
import { channelStats } from './filters/channels.js';

/** Options of {@link RandGamma}. */
export interface RandGammaOptions {
  /**
   * Probability per sample. Default 0.3 (REFERENCE.md; nnU-Net `p_gamma = 0.3` in
   * `default_3D_augmentation_params`). The inverted preset uses 0.15 (DA4's inverted
   * `GammaTransform(..., p_per_sample=0.15)`).
   */
  p?: number;
  /**
   * Range of gamma. Default [0.5, 1.6] (REFERENCE.md; DA4 `gamma_range = (0.5, 1.6)`); half
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
  const before = channelStats(image, channels, c);
  // Statistics of the (possibly negated) channel.
  const mean = sign * before.mean;
  const std = before.std;
  const min = sign > 0 ? before.min : -before.max;
  const range = before.max - before.min + options.epsilon;
  for (let j = c; j < image.length; j += channels) image[j] = Math.pow((sign * image[j]! - min) / range, gamma) * range + min;
  if (options.retainStats) {
    const after = channelStats(image, channels, c);
    const k = std / (after.std + 1e-8);
    for (let j = c; j < image.length; j += channels) image[j] = (image[j]! - after.mean) * k + mean;
  }
  if (sign < 0) for (let j = c; j < image.length; j += channels) image[j] = -image[j]!;
}

/**
 * Random gamma per channel (batchgenerators `GammaTransform`). The inverted variant of DA4 is
 * this class with `invertImage: true` and `p: 0.15` (factory `RandGammaInverted`).
 */
export class RandGamma implements Augmenter {
  readonly name: string;
  readonly kind = 'intensity' as const;
  readonly options: Required<RandGammaOptions>;

  constructor(options: RandGammaOptions = {}) {
    const o = { ...RAND_GAMMA_DEFAULTS, ...options };
    this.name = o.invertImage ? 'RandGammaInverted' : 'RandGamma';
    const gammaRange = checkRange(this.name, 'gammaRange', o.gammaRange);
    if (!(gammaRange[0] > 0)) throw new RangeError(`${this.name}: option gammaRange must be positive, got ${JSON.stringify(o.gammaRange)}`);
    if (!(o.epsilon >= 0)) throw new RangeError(`${this.name}: option epsilon must be >= 0, got ${JSON.stringify(o.epsilon)}`);
    this.options = {
      p: checkProbability(this.name, 'p', o.p),
      gammaRange,
      invertImage: Boolean(o.invertImage),
      perChannel: Boolean(o.perChannel),
      retainStats: Boolean(o.retainStats),
      epsilon: o.epsilon,
    };
  }

  apply(sample: Sample, rng: Rng): void {
    const { p, gammaRange, perChannel } = this.options;
    if (!(rng.next() < p)) return;
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
export const randGammaFactory: AugmenterFactory<RandGammaOptions> = {
  name: 'RandGamma',
  description: 'Gamma per channel, mean and std retained (DA4: 0.5-1.6, p 0.3)',
  defaults: RAND_GAMMA_DEFAULTS,
  create: (options) => new RandGamma(options),
};

/** Registry entry for the inverted-gamma preset of {@link RandGamma}. */
export const randGammaInvertedFactory: AugmenterFactory<RandGammaOptions> = {
  name: 'RandGammaInverted',
  description: 'Gamma on the negated image, mean and std retained (DA4: 0.5-1.6, p 0.15)',
  defaults: RAND_GAMMA_INVERTED_DEFAULTS,
  create: (options) => new RandGamma({ ...RAND_GAMMA_INVERTED_DEFAULTS, ...options }),
};
