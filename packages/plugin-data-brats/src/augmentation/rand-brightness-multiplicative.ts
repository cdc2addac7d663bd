import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';
import type { Range } from './draw.js';

/** Options of {@link RandBrightnessMultiplicative}. */
export interface RandBrightnessMultiplicativeOptions {
  /** Probability per sample. Default 0.15 (docs/method.md; DA4 `BrightnessMultiplicativeTransform(p_per_sample=0.15)`). */
  p?: number;
  /** Range of the multiplier. Default [0.7, 1.3] (docs/method.md; DA4 `multiplier_range=(0.70, 1.3)`). */
  multiplierRange?: Range;
  /** One multiplier per channel. Default true (batchgenerators default `per_channel=True`). */
  perChannel?: boolean;
}

/** Defaults of {@link RandBrightnessMultiplicative}; sources in {@link RandBrightnessMultiplicativeOptions}. */
export const RAND_BRIGHTNESS_MULTIPLICATIVE_DEFAULTS: Required<RandBrightnessMultiplicativeOptions> = {
  p: 0.15,
  multiplierRange: [0.7, 1.3],
  perChannel: true,
};

/** Multiplies image channels by a random factor (batchgenerators `BrightnessMultiplicativeTransform`). */
export class RandBrightnessMultiplicative extends defineAugmenter<RandBrightnessMultiplicativeOptions>({
  name: 'RandBrightnessMultiplicative',
  kind: 'intensity',
  description: 'Multiplicative brightness per channel (DA4: 0.7-1.3, p 0.15)',
  defaults: RAND_BRIGHTNESS_MULTIPLICATIVE_DEFAULTS,
  validate: (o, check) => ({ p: check.probability('p', o.p), multiplierRange: check.range('multiplierRange', o.multiplierRange), perChannel: Boolean(o.perChannel) }),
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, multiplierRange: [lo, hi], perChannel } = this.options;
    if (!chance(rng, p)) return;
    const { image, channels: C } = sample;
    const shared = rng.uniform(lo, hi);
    const m = Array.from({ length: C }, () => (perChannel ? rng.uniform(lo, hi) : shared));
    for (let i = 0; i < image.length; i += C) for (let c = 0; c < C; c++) image[i + c]! *= m[c]!;
  }
}

/** Registry entry for {@link RandBrightnessMultiplicative}. */
export const randBrightnessMultiplicativeFactory: AugmenterFactory<RandBrightnessMultiplicativeOptions> = RandBrightnessMultiplicative.factory();
