import type * as tf from '@tensorflow/tfjs-core';

/** Throw a one-line error unless logits and targets have the same channels-last rank-5 shape. */
export function checkPair(fn: string, logits: tf.Tensor, targets: tf.Tensor): void {
  if (logits.rank !== 5) {
    throw new Error(`${fn}: logits must be [N, D, H, W, C] (rank 5), got shape [${logits.shape}]`);
  }
  if (logits.shape.join() !== targets.shape.join()) {
    throw new Error(`${fn}: targets shape [${targets.shape}] differs from logits shape [${logits.shape}]`);
  }
}
