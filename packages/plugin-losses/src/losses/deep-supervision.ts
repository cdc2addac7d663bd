import * as tf from '@tensorflow/tfjs-core';
import { downsampleTarget } from './downsample-target.js';

/**
 * nnU-Net's deep-supervision weights for `heads` outputs (highest resolution first):
 * `1 / 2^i`, the lowest-resolution head set to 0, normalised to sum 1
 * (5 heads: 8/15, 4/15, 2/15, 1/15, 0). One head gets weight 1.
 */
export function deepSupervisionWeights(heads: number): number[] {
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`deepSupervisionWeights: heads must be >= 1, got ${heads}`);
  const w = Array.from({ length: heads }, (_, i) => (heads > 1 && i === heads - 1 ? 0 : 1 / 2 ** i));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/** A per-head loss: logits and targets of one resolution -> scalar. */
export type HeadLoss = (logits: tf.Tensor, targets: tf.Tensor) => tf.Scalar;

/**
 * Weighted sum of `loss` over deep-supervision heads (nnU-Net's `MultipleOutputLoss2`).
 *
 * @param outputs logits per head, highest resolution first
 * @param targets one target per head (same shapes), or a single full-resolution target that
 *   is downsampled by nearest neighbour to every lower head ({@link downsampleTarget})
 * @param weights per-head weights; default {@link deepSupervisionWeights}. Heads with weight 0
 *   are not computed (as nnU-Net skips them).
 */
export function deepSupervisionLoss(
  loss: HeadLoss,
  outputs: readonly tf.Tensor[],
  targets: readonly tf.Tensor[],
  weights: readonly number[] = deepSupervisionWeights(outputs.length),
): tf.Scalar {
  if (outputs.length === 0) throw new Error('deepSupervisionLoss: no outputs');
  if (weights.length !== outputs.length) {
    throw new Error(`deepSupervisionLoss: ${weights.length} weights for ${outputs.length} outputs`);
  }
  if (targets.length !== 1 && targets.length !== outputs.length) {
    throw new Error(`deepSupervisionLoss: expected 1 or ${outputs.length} targets, got ${targets.length}`);
  }
  return tf.tidy(() => {
    const terms: tf.Tensor[] = [];
    outputs.forEach((out, i) => {
      if (weights[i] === 0 && i > 0) return;
      const target = targets.length === 1 && i > 0 ? downsampleTarget(targets[0]!, out.shape.slice(1, 4)) : targets[i] ?? targets[0]!;
      terms.push(tf.mul(loss(out, target), weights[i]!));
    });
    return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  });
}
