import type { Augmenter, AugmenterFactory, Rng, Sample } from '@voxseg/core';
import { checkProbability } from './draw.js';

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
export class RandBrightnessAdditive implements Augmenter {
  /** Registry and log name of this augmenter. */
  readonly name = 'RandBrightnessAdditive';
  /** `'intensity'`: changes image values only, never the label. */
  readonly kind = 'intensity' as const;
  /** The options in use: the caller's merged over the defaults, validated. */
  readonly options: Required<RandBrightnessAdditiveOptions>;

  /** @throws RangeError naming the augmenter and option when an option is invalid */
  constructor(options: RandBrightnessAdditiveOptions = {}) {
    const o = { ...RAND_BRIGHTNESS_ADDITIVE_DEFAULTS, ...options };
    if (!Number.isFinite(o.mu)) throw new RangeError(`${this.name}: option mu must be a finite number, got ${JSON.stringify(o.mu)}`);
    if (!(o.sigma >= 0)) throw new RangeError(`${this.name}: option sigma must be >= 0, got ${JSON.stringify(o.sigma)}`);
    this.options = {
      p: checkProbability(this.name, 'p', o.p),
      mu: o.mu,
      sigma: o.sigma,
      pPerChannel: checkProbability(this.name, 'pPerChannel', o.pPerChannel),
      perChannel: Boolean(o.perChannel),
    };
  }

  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, mu, sigma, pPerChannel, perChannel } = this.options;
    if (!(rng.next() < p)) return;
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
export const randBrightnessAdditiveFactory: AugmenterFactory<RandBrightnessAdditiveOptions> = {
  name: 'RandBrightnessAdditive',
  description: 'Additive brightness per channel (DA4: N(0, 0.2), p 0.3, per channel 0.5)',
  defaults: RAND_BRIGHTNESS_ADDITIVE_DEFAULTS,
  create: (options) => new RandBrightnessAdditive(options),
};
