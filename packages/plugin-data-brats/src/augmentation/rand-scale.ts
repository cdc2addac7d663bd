import { type AugmenterFactory, chance, defineAugmenter, type Rng, type SamplingGrid } from '@voxseg/core';
import { applyLinearToGrid } from '../sampling/sampling-grid.js';
import { drawAroundOne, type Range } from './draw.js';

/** Options of {@link RandScale}. */
export interface RandScaleOptions {
  /** Probability that a sample is scaled. Default 0.3 (docs/method.md; DA4 trainer `p_scale = 0.3`). */
  p?: number;
  /**
   * Range of the scale factor applied to the sampling coordinates. Default [0.65, 1.6]
   * (docs/method.md; DA4 `scale_range`). A factor < 1 samples a smaller region (zoom in); half
   * of the draws are < 1 and half >= 1 (batchgenerators' rule, see {@link drawAroundOne}).
   */
  scaleRange?: Range;
  /**
   * Probability, when a sample is scaled, of drawing an independent factor per axis instead
   * of one for all. Default 0.3 (docs/method.md; DA4 `independent_scale_factor_for_each_axis =
   * True`, `p_independent_scale_per_axis = 0.3`).
   */
  pIndependentPerAxis?: number;
}

/** Defaults of {@link RandScale}; sources in {@link RandScaleOptions}. */
export const RAND_SCALE_DEFAULTS: Required<RandScaleOptions> = { p: 0.3, scaleRange: [0.65, 1.6], pIndependentPerAxis: 0.3 };

/** Random scaling of the patch's sampling grid about its centre (batchgenerators `scale_coords`). */
export class RandScale extends defineAugmenter<RandScaleOptions>({
  name: 'RandScale',
  kind: 'spatial',
  description: 'Random scaling of the patch grid (DA4: 0.65-1.6, p 0.3, independent per axis with p 0.3)',
  defaults: RAND_SCALE_DEFAULTS,
  validate: (o, check) => {
    const scaleRange = check.range('scaleRange', o.scaleRange, 'positive');
    return {
      p: check.probability('p', o.p),
      scaleRange,
      pIndependentPerAxis: check.probability('pIndependentPerAxis', o.pIndependentPerAxis),
    };
  },
}) {
  /** Transform the patch's sampling grid in place, with probability `p`. */
  transformGrid(grid: SamplingGrid, rng: Rng): void {
    const { p, scaleRange, pIndependentPerAxis } = this.options;
    if (!chance(rng, p)) return;
    let s: number[];
    if (rng.next() < pIndependentPerAxis) s = [0, 1, 2].map(() => drawAroundOne(rng, scaleRange));
    else {
      const f = drawAroundOne(rng, scaleRange);
      s = [f, f, f];
    }
    applyLinearToGrid(grid, [s[0]!, 0, 0, 0, s[1]!, 0, 0, 0, s[2]!]);
  }
}

/** Registry entry for {@link RandScale}. */
export const randScaleFactory: AugmenterFactory<RandScaleOptions> = RandScale.factory();
