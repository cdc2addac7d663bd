import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';

/** Options of {@link RandBrightnessAdditive}. */
export interface RandBrightnessAdditiveOptions {
  /** Probability per sample. Default 0.3 (docs/method.md; DA4 `additive_brightness_p_per_sample = 0.3`). */
  p?: number;
  /** Mean of the added offset. Default 0 (docs/method.md; DA4 `additive_brightness_mu = 0`). */
  mu?: number;
  /** Standard deviation of the added offset. Default 0.2 (docs/method.md; DA4 `additive_brightness_sigma = 0.2`). */
  sigma?: number;
  /** Probability per channel. Default 0.5 (docs/method.md; DA4 `additive_brightness_p_per_channel = 0.5`). */
  pPerChannel?: number;
  /** One offset per channel. Default true (DA4 passes `per_channel=True`). */
  perChannel?: boolean;
}

/** Defaults of {@link RandBrightnessAdditive}; sources in {@link RandBrightnessAdditiveOptions}. */
export const RAND_BRIGHTNESS_ADDITIVE_DEFAULTS: Required<RandBrightnessAdditiveOptions> = {
  p: 0.3,
  mu: 0,
  sigma: 0.2,
  pPerChannel: 0.5,
  perChannel: true,
};

/** Adds a Gaussian-distributed offset to image channels (batchgenerators `BrightnessTransform`). */
export class RandBrightnessAdditive extends defineAugmenter<RandBrightnessAdditiveOptions>({
  name: 'RandBrightnessAdditive',
  kind: 'intensity',
  description: 'Additive brightness per channel (DA4: N(0, 0.2), p 0.3, per channel 0.5)',
  defaults: RAND_BRIGHTNESS_ADDITIVE_DEFAULTS,
  validate: (o, check) => {
    if (!Number.isFinite(o.mu)) check.invalid('mu', 'must be a finite number', o.mu);
    if (!(o.sigma >= 0)) check.invalid('sigma', 'must be >= 0', o.sigma);
    return { p: check.probability('p', o.p), mu: o.mu, sigma: o.sigma, pPerChannel: check.probability('pPerChannel', o.pPerChannel), perChannel: Boolean(o.perChannel) };
  },
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, mu, sigma, pPerChannel, perChannel } = this.options;
    if (!chance(rng, p)) return;
    const shared = perChannel ? 0 : rng.normal(mu, sigma);
    const { image, channels: C } = sample;
    for (let c = 0; c < C; c++) {
      // batchgenerators: `np.random.uniform() <= p_per_channel`.
      if (!(rng.next() <= pPerChannel)) continue;
      const offset = perChannel ? rng.normal(mu, sigma) : shared;
      for (let j = c; j < image.length; j += C) image[j]! += offset;
    }
  }
}

/** Registry entry for {@link RandBrightnessAdditive}. */
export const randBrightnessAdditiveFactory: AugmenterFactory<RandBrightnessAdditiveOptions> = RandBrightnessAdditive.factory();
