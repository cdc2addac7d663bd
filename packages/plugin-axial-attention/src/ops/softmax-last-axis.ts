import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_LAST_AXIS_BACKWARD, SOFTMAX_LAST_AXIS_FORWARD } from '@voxseg/core';

/**
 * Softmax over the last axis, written as engine-dispatched ops (max, sub, exp, sum, div) with
 * a hand-written gradient `dx = p * (dy - sum(dy * p, -1))`.
 *
 * Same values as `tf.softmax`; it exists for speed. tfjs-backend-cpu's `Softmax` kernel calls
 * the cpu backend's own broadcasting sub/div implementations directly, which index every
 * element through `indexToLoc` (measured here: 2.2 s for a [4096, 32, 32] tensor), and
 * backends that inherit the kernel from cpu (voxseg's `native`) inherit that cost. Going
 * through the engine lets each backend use its own kernels (native: ~0.2 s for the same
 * tensor). The max subtraction keeps exp from overflowing; the custom gradient skips the
 * (mathematically zero) gradient path through the max.
 *
 * A backend that registers `@voxseg/core`'s last-axis softmax kernels
 * (`VoxsegSoftmaxLastAxis` and its gradient: `@voxseg/backend-webgpu` does) runs each
 * direction as one kernel instead.
 */
export const softmaxLastAxis: (logits: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  // customGrad passes the inputs, then the save function.
  const logits = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const fused = logits.dtype === 'float32' && tf.getKernel(SOFTMAX_LAST_AXIS_FORWARD, tf.getBackend()) !== undefined;
  let p: tf.Tensor;
  if (fused) {
    p = tf.engine().runKernel(SOFTMAX_LAST_AXIS_FORWARD, { logits }) as tf.Tensor;
  } else {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const e = tf.exp(shifted);
    p = tf.div(e, tf.sum(e, -1, true));
  }
  save([p]);
  return {
    value: p,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => softmaxBackward(dy, saved[0]!),
  };
}) as (logits: tf.Tensor) => tf.Tensor;

/**
 * The gradient of {@link softmaxLastAxis} given its output `probs`: `probs * (dy - sum(dy *
 * probs, -1))`, one kernel where the backend registers `@voxseg/core`'s last-axis softmax
 * gradient (and the forward ran fused), else engine-dispatched ops.
 */
export function softmaxBackward(dy: tf.Tensor, probs: tf.Tensor): tf.Tensor {
  const backend = tf.getBackend();
  if (probs.dtype === 'float32' && tf.getKernel(SOFTMAX_LAST_AXIS_FORWARD, backend) !== undefined && tf.getKernel(SOFTMAX_LAST_AXIS_BACKWARD, backend) !== undefined) {
    return tf.engine().runKernel(SOFTMAX_LAST_AXIS_BACKWARD, { dy, probs }) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(probs, tf.sub(dy, tf.sum(tf.mul(dy, probs), -1, true))));
}
