import * as tf from '@tensorflow/tfjs-core';
import { NORM_FORWARD, type NormKernelAttrs } from './norm-kernels.js';

/** Options of {@link nativeNorm}. */
export interface NativeNormOptions {
  /** Channel groups sharing statistics. GroupNorm: 32; InstanceNorm: C; LayerNorm over space and channels: 1. */
  groups: number;
  /** BatchNorm training mode: statistics per channel over batch and space (default false). */
  acrossBatch?: boolean;
  /** Added to the variance (default 1e-5, nnU-Net's). */
  epsilon?: number;
  /** Apply LeakyReLU with this slope to y, fused into the same passes on `native`. Default: none. */
  negativeSlope?: number;
}

/** Output of {@link nativeNorm}: the normalised tensor and the (biased) statistics it used. */
export interface NativeNormResult {
  y: tf.Tensor;
  /** Shape [N, groups], or [groups] with acrossBatch. */
  mean: tf.Tensor;
  /** Biased variance, same shape as mean (update BatchNorm running stats from it). */
  variance: tf.Tensor;
}

/**
 * Fused normalisation of a channels-last tensor x [N, ...spatial, C]:
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, statistics per (sample,
 * channel group) or, with acrossBatch, per channel over the batch. Differentiable in x,
 * gamma and beta. On the `native` backend one kernel does the forward and one the whole
 * backward pass; on any other backend the same maths runs as ordinary tfjs ops (so
 * callers need not check the backend).
 */
export function nativeNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, options: NativeNormOptions): NativeNormResult {
  const c = x.shape[x.rank - 1]!;
  const attrs: NormKernelAttrs = { groups: options.groups, acrossBatch: options.acrossBatch ?? false, epsilon: options.epsilon ?? 1e-5 };
  if (options.negativeSlope !== undefined) attrs.negativeSlope = options.negativeSlope;
  if (gamma.size !== c || beta.size !== c) {
    throw new Error(`nativeNorm: gamma ${JSON.stringify(gamma.shape)} and beta ${JSON.stringify(beta.shape)} must have ${c} values (the channels of x ${JSON.stringify(x.shape)})`);
  }
  if (c % attrs.groups !== 0) throw new Error(`nativeNorm: ${c} channels of x ${JSON.stringify(x.shape)} are not divisible into ${attrs.groups} groups`);
  if (tf.getBackend() === 'native' && x.dtype === 'float32') {
    const g = tf.reshape(gamma, [c]);
    const b = tf.reshape(beta, [c]);
    const [y, mean, variance] = tf.engine().runKernel(NORM_FORWARD, { x, gamma: g, beta: b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    if (g !== gamma) g.dispose();
    if (b !== beta) b.dispose();
    return { y: y!, mean: mean!, variance: variance! };
  }
  return tf.tidy(() => {
    const n = x.shape[0]!;
    const grouped = tf.reshape(x, [n, -1, attrs.groups, c / attrs.groups]);
    const m = tf.moments(grouped, attrs.acrossBatch ? [0, 1, 3] : [1, 3], true);
    const norm = tf.reshape(tf.mul(tf.sub(grouped, m.mean), tf.rsqrt(tf.add(m.variance, attrs.epsilon))), x.shape);
    const affine = tf.add(tf.mul(norm, tf.reshape(gamma, [c])), tf.reshape(beta, [c]));
    const y = attrs.negativeSlope === undefined ? affine : tf.leakyRelu(affine, attrs.negativeSlope);
    const statShape = attrs.acrossBatch ? [attrs.groups] : [n, attrs.groups];
    return { y, mean: tf.reshape(m.mean, statShape), variance: tf.reshape(m.variance, statShape) };
  });
}

/** GroupNorm (default 32 groups, eps 1e-5, as in the BraTS-winning GN variants): y only. */
export function nativeGroupNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups = 32, epsilon = 1e-5): tf.Tensor {
  const r = nativeNorm(x, gamma, beta, { groups, epsilon });
  r.mean.dispose();
  r.variance.dispose();
  return r.y;
}

/** InstanceNorm (GroupNorm with one channel per group): y only. */
export function nativeInstanceNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  return nativeGroupNorm(x, gamma, beta, x.shape[x.rank - 1]!, epsilon);
}

/**
 * BatchNorm in training mode: batch statistics per channel. Returns y and the batch
 * mean/biased variance ([C]) for the caller's running averages (PyTorch updates its
 * running variance with the unbiased estimate: multiply by n/(n-1), n = N*D*H*W).
 */
export function nativeBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): NativeNormResult {
  return nativeNorm(x, gamma, beta, { groups: x.shape[x.rank - 1]!, acrossBatch: true, epsilon });
}
