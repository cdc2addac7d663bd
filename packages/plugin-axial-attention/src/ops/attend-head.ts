import * as tf from '@tensorflow/tfjs-core';
import { softmaxBackward, softmaxLastAxis } from './softmax-last-axis.js';

/**
 * One head's attention `softmax(q k^T) v` over `[seqs, L, e]` inputs (q already scaled), with
 * a gradient that recomputes the `[seqs, L, L]` scores instead of keeping them: the forward
 * pass saves only q, k and v (which exist anyway), so no head's score matrix outlives its own
 * forward or backward step, and the backward pass holds one head's scores at a time.
 * With p = softmax(s), s = q k^T, o = p v:
 * dv = p^T do, dp = do v^T, ds = p * (dp - sum(dp * p, -1)), dq = ds k, dk = ds^T q
 * (the same products, in the same order, that autodiff of the plain expression computes).
 */
export const attendHead: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [q, k, v] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
  const save = args[3] as tf.GradSaveFunc;
  save([q, k, v]);
  const value = tf.tidy(() => tf.matMul(softmaxLastAxis(tf.matMul(q, k, false, true)), v));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sq, sk, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      // Each step frees what it no longer needs: at most p, dp and ds are alive at once.
      const p = tf.tidy(() => softmaxLastAxis(tf.matMul(sq, sk, false, true)));
      const dv = tf.matMul(p, dy, true, false);
      const ds = tf.tidy(() => {
        const dp = tf.matMul(dy, sv, false, true);
        return softmaxBackward(dp, p);
      });
      p.dispose();
      const dq = tf.matMul(ds, sk);
      const dk = tf.matMul(ds, sq, true, false);
      ds.dispose();
      return [dq, dk, dv];
    },
  };
}) as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
