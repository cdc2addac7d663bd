import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';
import type { Range } from './draw.js';
import { addNormalNoise, zigguratNormal } from './filters/normal.js';

/** Options of {@link RandGaussianNoise}. */
export interface RandGaussianNoiseOptions {
  /** Probability per sample. Default 0.15 (docs/method.md; DA4 `GaussianNoiseTransform(p_per_sample=0.15)`). */
  p?: number;
  /**
   * Range of the noise "variance". Default [0, 0.1] (docs/method.md; batchgenerators default
   * `noise_variance=(0, 0.1)`). As in batchgenerators' `augment_gaussian_noise`, the drawn
   * value is used as the standard deviation of the noise (`np.random.normal(0, variance)`),
   * so that training sees the same noise levels as the reference.
   */
  noiseVariance?: Range;
  /** Probability per channel. Default 1 (batchgenerators default `p_per_channel=1`). */
  pPerChannel?: number;
  /** Draw a separate level per channel. Default false (batchgenerators default `per_channel=False`). */
  perChannel?: boolean;
}

/** Defaults of {@link RandGaussianNoise}; sources in {@link RandGaussianNoiseOptions}. */
export const RAND_GAUSSIAN_NOISE_DEFAULTS: Required<RandGaussianNoiseOptions> = {
  p: 0.15,
  noiseVariance: [0, 0.1],
  pPerChannel: 1,
  perChannel: false,
};

/**
 * Additive Gaussian noise on the image (batchgenerators `GaussianNoiseTransform`); the
 * deviates come from the ziggurat method ({@link zigguratNormal}) for speed.
 */
export class RandGaussianNoise extends defineAugmenter<RandGaussianNoiseOptions>({
  name: 'RandGaussianNoise',
  kind: 'intensity',
  description: 'Additive Gaussian noise (DA4: "variance" 0-0.1, p 0.15)',
  defaults: RAND_GAUSSIAN_NOISE_DEFAULTS,
  validate: (o, check) => ({
    p: check.probability('p', o.p),
    noiseVariance: check.range('noiseVariance', o.noiseVariance),
    pPerChannel: check.probability('pPerChannel', o.pPerChannel),
    perChannel: Boolean(o.perChannel),
  }),
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, noiseVariance: [lo, hi], pPerChannel, perChannel } = this.options;
    if (!chance(rng, p)) return;
    const draw = (): number => (lo === hi ? lo : rng.uniform(lo, hi));
    const shared = perChannel ? 0 : draw();
    const { image, channels: C } = sample;
    for (let c = 0; c < C; c++) {
      if (!(rng.next() < pPerChannel)) continue;
      const sd = perChannel ? draw() : shared;
      if (sd === 0) continue;
      addNormalNoise(rng, image, c, C, sd);
    }
  }
}

/** Registry entry for {@link RandGaussianNoise}. */
export const randGaussianNoiseFactory: AugmenterFactory<RandGaussianNoiseOptions> = RandGaussianNoise.factory();
