import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient-norm clipping with the exact semantics of PyTorch's
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm)` (norm type 2), which nnU-Net applies to
 * the raw gradients right before `optimizer.step()`:
 *
 * - total = L2 norm over all gradients together (the norm of the per-tensor norms);
 * - coef = maxNorm / (total + 1e-6), clamped to at most 1;
 * - every gradient is multiplied by coef (a no-op when total <= maxNorm - 1e-6).
 *
 * Runs inside `tf.tidy`; the input gradients are not disposed. Returns new gradient tensors
 * (the caller disposes them) and the total norm before clipping as a scalar tensor (the caller
 * disposes it too; read it with `await total.data()` only when needed, to avoid a sync).
 *
 * @param grads gradients, any shapes
 * @param maxNorm the clipping threshold (nnU-Net: 12); must be positive
 */
export function clipGradNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; totalNorm: tf.Scalar } {
  const { coef, totalNorm } = clipCoefficient(grads, maxNorm);
  const clipped = tf.tidy(() => grads.map((g) => tf.mul(g, coef)));
  coef.dispose();
  return { grads: clipped, totalNorm };
}

/**
 * The factor {@link clipGradNorm} multiplies every gradient by (`min(1, maxNorm / (total + 1e-6))`),
 * without making scaled copies of the gradients: pass it to `SGD.step(grads, lr, coef)`, which
 * scales each gradient just before using it. Same numbers, one gradient-sized copy less at the
 * peak (what matters for an 87M-parameter network). The caller disposes both scalars.
 */
export function clipCoefficient(grads: tf.Tensor[], maxNorm: number): { coef: tf.Scalar; totalNorm: tf.Scalar } {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  return tf.tidy(() => {
    if (grads.length === 0) return { coef: tf.scalar(1), totalNorm: tf.scalar(0) };
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    const totalNorm = tf.sqrt(tf.addN(squares)) as tf.Scalar;
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, tf.scalar(1e-6))), tf.scalar(1)) as tf.Scalar;
    return { coef, totalNorm };
  });
}
