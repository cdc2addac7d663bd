import type { Augmenter, AugmenterFactory, Rng, Sample } from '@voxseg/core';
import { checkProbability, checkRange, type Range } from './draw.js';
import { readChannel, writeChannel } from './filters/channels.js';
import { gaussianFilter3d } from './filters/gaussian-filter.js';

/** Options of {@link RandGaussianBlur}. */
export interface RandGaussianBlurOptions {
  /** Probability per sample. Default 0.2 (docs/method.md; DA4 `GaussianBlurTransform(p_per_sample=0.2)`). */
  p?: number;
  /** Range of the Gaussian sigma in voxels. Default [0.5, 1.5] (docs/method.md; DA4 `(0.5, 1.5)`). */
  sigmaRange?: Range;
  /** Probability per channel. Default 0.5 (docs/method.md; DA4 `p_per_channel=0.5`). */
  pPerChannel?: number;
  /** Draw a separate sigma per channel. Default true (DA4 `different_sigma_per_channel=True`). */
  perChannel?: boolean;
}

/** Defaults of {@link RandGaussianBlur}; sources in {@link RandGaussianBlurOptions}. */
export const RAND_GAUSSIAN_BLUR_DEFAULTS: Required<RandGaussianBlurOptions> = {
  p: 0.2,
  sigmaRange: [0.5, 1.5],
  pPerChannel: 0.5,
  perChannel: true,
};

/**
 * Gaussian blur of image channels (batchgenerators `GaussianBlurTransform`): scipy's
 * `gaussian_filter(channel, sigma)` with its defaults (mode `reflect`, truncate 4), the same
 * sigma on every axis.
 */
export class RandGaussianBlur implements Augmenter {
  /** Registry and log name of this augmenter. */
  readonly name = 'RandGaussianBlur';
  /** `'intensity'`: changes image values only, never the label. */
  readonly kind = 'intensity' as const;
  /** The options in use: the caller's merged over the defaults, validated. */
  readonly options: Required<RandGaussianBlurOptions>;

  /** @throws RangeError naming the augmenter and option when an option is invalid */
  constructor(options: RandGaussianBlurOptions = {}) {
    const o = { ...RAND_GAUSSIAN_BLUR_DEFAULTS, ...options };
    const sigmaRange = checkRange(this.name, 'sigmaRange', o.sigmaRange);
    if (!(sigmaRange[0] >= 0)) throw new RangeError(`${this.name}: option sigmaRange must be >= 0, got ${JSON.stringify(o.sigmaRange)}`);
    this.options = {
      p: checkProbability(this.name, 'p', o.p),
      sigmaRange,
      pPerChannel: checkProbability(this.name, 'pPerChannel', o.pPerChannel),
      perChannel: Boolean(o.perChannel),
    };
  }

  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, sigmaRange: [lo, hi], pPerChannel, perChannel } = this.options;
    if (!(rng.next() < p)) return;
    const shared = perChannel ? 0 : rng.uniform(lo, hi);
    const { image, channels: C, shape } = sample;
    const buf = new Float32Array(image.length / C);
    for (let c = 0; c < C; c++) {
      // batchgenerators: `np.random.uniform() <= p_per_channel`.
      if (!(rng.next() <= pPerChannel)) continue;
      const sigma = perChannel ? rng.uniform(lo, hi) : shared;
      writeChannel(image, C, c, gaussianFilter3d(readChannel(image, C, c, buf), shape, sigma));
    }
  }
}

/** Registry entry for {@link RandGaussianBlur}. */
export const randGaussianBlurFactory: AugmenterFactory<RandGaussianBlurOptions> = {
  name: 'RandGaussianBlur',
  description: 'Gaussian blur per channel (DA4: sigma 0.5-1.5, p 0.2, per channel 0.5)',
  defaults: RAND_GAUSSIAN_BLUR_DEFAULTS,
  create: (options) => new RandGaussianBlur(options),
};
