import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';
import type { Range } from './draw.js';
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
export class RandGaussianBlur extends defineAugmenter<RandGaussianBlurOptions>({
  name: 'RandGaussianBlur',
  kind: 'intensity',
  description: 'Gaussian blur per channel (DA4: sigma 0.5-1.5, p 0.2, per channel 0.5)',
  defaults: RAND_GAUSSIAN_BLUR_DEFAULTS,
  validate: (o, check) => {
    const sigmaRange = check.range('sigmaRange', o.sigmaRange, 'non-negative');
    return {
      p: check.probability('p', o.p),
      sigmaRange,
      pPerChannel: check.probability('pPerChannel', o.pPerChannel),
      perChannel: Boolean(o.perChannel),
    };
  },
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, sigmaRange: [lo, hi], pPerChannel, perChannel } = this.options;
    if (!chance(rng, p)) return;
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
export const randGaussianBlurFactory: AugmenterFactory<RandGaussianBlurOptions> = RandGaussianBlur.factory();
