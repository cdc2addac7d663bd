import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample } from '@voxseg/core';
import { drawAroundOne, type Range } from './draw.js';

/** Options of {@link RandContrast}. */
export interface RandContrastOptions {
  /** Probability per sample. Default 0.15 (docs/method.md; DA4 `ContrastAugmentationTransform(p_per_sample=0.15)`). */
  p?: number;
  /**
   * Range of the contrast factor. Default [0.65, 1.5] (docs/method.md; DA4 `contrast_range=(0.65, 1.5)`);
   * half of the draws below 1, half above ({@link drawAroundOne}).
   */
  contrastRange?: Range;
  /** Clip the result to the channel's original [min, max]. Default true (batchgenerators default `preserve_range=True`). */
  preserveRange?: boolean;
  /** One factor per channel. Default true (batchgenerators default `per_channel=True`). */
  perChannel?: boolean;
  /** Probability per channel. Default 1 (batchgenerators default `p_per_channel=1`). */
  pPerChannel?: number;
}

/** Defaults of {@link RandContrast}; sources in {@link RandContrastOptions}. */
export const RAND_CONTRAST_DEFAULTS: Required<RandContrastOptions> = {
  p: 0.15,
  contrastRange: [0.65, 1.5],
  preserveRange: true,
  perChannel: true,
  pPerChannel: 1,
};

/**
 * Scales channel `c` of a channels-last image about its mean by `factor`:
 * `x = (x - mean) * factor + mean`, then (when `preserveRange`) clips to the channel's
 * original [min, max] (batchgenerators `augment_contrast`). Mean in float64.
 */
export function adjustContrast(image: Float32Array, channels: number, c: number, factor: number, preserveRange: boolean): void {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let j = c; j < image.length; j += channels) {
    const v = image[j]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / (image.length / channels);
  for (let j = c; j < image.length; j += channels) {
    let v = (image[j]! - mean) * factor + mean;
    if (preserveRange) v = v < min ? min : v > max ? max : v;
    image[j] = v;
  }
}

/** Random contrast change per channel (batchgenerators `ContrastAugmentationTransform`). */
export class RandContrast extends defineAugmenter<RandContrastOptions>({
  name: 'RandContrast',
  kind: 'intensity',
  description: 'Contrast about the channel mean, range preserved (DA4: 0.65-1.5, p 0.15)',
  defaults: RAND_CONTRAST_DEFAULTS,
  validate: (o, check) => ({
    p: check.probability('p', o.p),
    contrastRange: check.range('contrastRange', o.contrastRange),
    preserveRange: Boolean(o.preserveRange),
    perChannel: Boolean(o.perChannel),
    pPerChannel: check.probability('pPerChannel', o.pPerChannel),
  }),
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, contrastRange, preserveRange, perChannel, pPerChannel } = this.options;
    if (!chance(rng, p)) return;
    const shared = perChannel ? 0 : drawAroundOne(rng, contrastRange);
    for (let c = 0; c < sample.channels; c++) {
      if (!(rng.next() < pPerChannel)) continue;
      const factor = perChannel ? drawAroundOne(rng, contrastRange) : shared;
      adjustContrast(sample.image, sample.channels, c, factor, preserveRange);
    }
  }
}

/** Registry entry for {@link RandContrast}. */
export const randContrastFactory: AugmenterFactory<RandContrastOptions> = RandContrast.factory();
