import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample, type Shape3 } from '@voxseg/core';
import type { Range } from './draw.js';
import { readChannel, writeChannel } from './filters/channels.js';
import { resizeCubic, resizeNearest } from './filters/resize.js';

/** Options of {@link RandLowResolution}. */
export interface RandLowResolutionOptions {
  /** Probability per sample. Default 0.25 (docs/method.md; DA4 `SimulateLowResolutionTransform(p_per_sample=0.25)`). */
  p?: number;
  /** Range of the zoom factor (< 1 = coarser). Default [0.5, 1] (docs/method.md; DA4 `zoom_range=(0.5, 1)`). */
  zoomRange?: Range;
  /** Probability per channel. Default 0.5 (docs/method.md; DA4 `p_per_channel=0.5`). */
  pPerChannel?: number;
  /** One zoom per channel. Default true (DA4 `per_channel=True`). */
  perChannel?: boolean;
}

/** Defaults of {@link RandLowResolution}; sources in {@link RandLowResolutionOptions}. */
export const RAND_LOW_RESOLUTION_DEFAULTS: Required<RandLowResolutionOptions> = {
  p: 0.25,
  zoomRange: [0.5, 1],
  pPerChannel: 0.5,
  perChannel: true,
};

/**
 * Simulates a low-resolution acquisition (batchgenerators `SimulateLowResolutionTransform`, DA4
 * settings `order_downsample=0, order_upsample=3`): a channel is resized to
 * `round(shape * zoom)` by nearest neighbour, then back to its shape with cubic B-spline
 * interpolation, both as scipy/skimage map coordinates ({@link resizeNearest}, {@link resizeCubic}).
 */
export class RandLowResolution extends defineAugmenter<RandLowResolutionOptions>({
  name: 'RandLowResolution',
  kind: 'intensity',
  description: 'Low-resolution simulation: nearest downsample, cubic upsample (DA4: zoom 0.5-1, p 0.25, per channel 0.5)',
  defaults: RAND_LOW_RESOLUTION_DEFAULTS,
  validate: (o, check) => {
    const zoomRange = check.range('zoomRange', o.zoomRange, 'positive');
    return {
      p: check.probability('p', o.p),
      zoomRange,
      pPerChannel: check.probability('pPerChannel', o.pPerChannel),
      perChannel: Boolean(o.perChannel),
    };
  },
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    const { p, zoomRange: [lo, hi], pPerChannel, perChannel } = this.options;
    if (!chance(rng, p)) return;
    const shared = perChannel ? 0 : rng.uniform(lo, hi);
    const { image, channels: C, shape } = sample;
    const buf = new Float32Array(image.length / C);
    for (let c = 0; c < C; c++) {
      if (!(rng.next() < pPerChannel)) continue;
      const zoom = perChannel ? rng.uniform(lo, hi) : shared;
      const low = shape.map((s) => Math.max(1, roundHalfEven(s * zoom))) as Shape3;
      const down = resizeNearest(readChannel(image, C, c, buf), shape, low);
      writeChannel(image, C, c, resizeCubic(down, low, shape));
    }
  }
}

/** numpy's `np.round` (round half to even), used for the low-resolution shape. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Registry entry for {@link RandLowResolution}. */
export const randLowResolutionFactory: AugmenterFactory<RandLowResolutionOptions> = RandLowResolution.factory();
