import * as tf from '@tensorflow/tfjs-core';
import { checkPair } from './check-shapes.js';

/**
 * Binary cross-entropy on logits, averaged over every element (PyTorch's
 * `BCEWithLogitsLoss()`, the CE term of nnU-Net's `DC_and_BCE_loss`).
 *
 * Value in the stable form `max(x, 0) - x z + log(1 + exp(-|x|))`, finite for any logit.
 * Gradient `(sigmoid(x) - z) / n`, written out (as PyTorch's backward) rather than left to
 * autodiff, whose derivative of `max` and `|x|` at exactly 0 would drop the 1/2.
 *
 * @param logits `[N, D, H, W, C]` network outputs
 * @param targets same shape, 0/1 (soft targets in [0, 1] work too)
 * @returns a scalar; differentiable w.r.t. `logits` (targets get a zero gradient)
 */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  checkPair('bceWithLogits', logits, targets);
  const n = logits.size;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, z, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, z]);
    const value = tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))))) as tf.Scalar);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sz] = saved as [tf.Tensor, tf.Tensor];
          return [tf.mul(tf.sub(tf.sigmoid(sx), sz), tf.div(dy, n)), tf.zerosLike(sz)];
        }),
    };
  });
  return f(logits, targets) as tf.Scalar;
}
