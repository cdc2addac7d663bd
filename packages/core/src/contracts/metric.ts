import type { Shape3 } from '../volume/types.js';
import type { Factory } from './factory.js';

/**
 * A per-region metric on binary masks (e.g. `dice`, `hd95`, `sensitivity`).
 * @param prediction binary mask [D,H,W] (0/1)
 * @param reference binary mask [D,H,W] (0/1)
 * @param shape [D,H,W]
 * @param spacing voxel spacing in mm, [D,H,W]
 */
export interface Metric {
  readonly name: string;
  /** Whether larger values are better (Dice) or worse (HD95): used for "best" checkpoints. */
  readonly higherIsBetter: boolean;
  compute(prediction: Uint8Array, reference: Uint8Array, shape: Shape3, spacing: Shape3): number;
}

export type MetricFactory<O = Record<string, unknown>> = Factory<Metric, O>;
