import * as tf from '@tensorflow/tfjs-core';
import { FUSED_NORM_BACKWARD, FUSED_NORM_FORWARD, type FusedNormKernelAttrs } from '@voxseg/core';
import { type NormGeometry, normBackwardJs, normForwardJs } from './fused-norm-js.js';
import { releaseUpstream } from './layer-utils.js';

/**
 * Name of the fused normalisation forward kernel (the contract lives in `@voxseg/core`:
 * {@link FUSED_NORM_FORWARD}). Used when the active backend registers it
 * (`@voxseg/backend-native`, `@voxseg/backend-webgpu`); this package depends only on the
 * kernel's name and contract, never on a backend package: inputs `{ x, gamma, beta }`, attrs
 * `{ groups, acrossBatch, epsilon }`, outputs `[y, mean, variance]` (biased). This module calls
 * it and its backward kernel inside its own differentiable op.
 */
export const NATIVE_NORM_KERNEL = FUSED_NORM_FORWARD;
/**
 * Its backward kernel ({@link FUSED_NORM_BACKWARD}): inputs `{ dy, x, mean, variance, gamma }`,
 * same attrs, outputs `[dx, dgamma, dbeta]`.
 */
export const NATIVE_NORM_BACKWARD_KERNEL = FUSED_NORM_BACKWARD;

/** How {@link fusedNorm} groups the statistics. */
export interface FusedNormOptions {
  /** Channel groups sharing statistics: C for batch and instance norm, 32 for GroupNorm. */
  groups: number;
  /** Statistics per channel over batch and space (BatchNorm in training) instead of per sample. */
  acrossBatch: boolean;
  /** Added to the variance. */
  epsilon: number;
  /**
   * Apply LeakyReLU with this negative slope to the result in the same op (the
   * norm -> LeakyReLU pair of every nnU-Net conv block). Default: no activation.
   */
  negativeSlope?: number;
  /**
   * `'auto'` (default): the active backend's fused norm kernels when it registers them
   * (backend-native, backend-webgpu), plain loops on the `cpu`
   * backend, tfjs ops elsewhere. `'tfjs-ops'` forces the op-by-op version (any backend;
   * used by tests to check the loops against it).
   */
  implementation?: 'auto' | 'tfjs-ops';
}

/** Output of {@link fusedNorm}. */
export interface FusedNormResult {
  y: tf.Tensor;
  /** Batch mean, `[groups]` with `acrossBatch`, else `[N, groups]` (no gradient flows through it). */
  mean: tf.Tensor;
  /** Biased batch variance, same shape as `mean`. */
  variance: tf.Tensor;
}

/**
 * `y = (x - mean) / sqrt(variance + eps) * gamma + beta` for channels-last `x`, with the
 * statistics of each (sample, channel group), or of each channel over the whole batch.
 *
 * Why not plain tfjs ops: autodiff of the op chain keeps about five full-size intermediates
 * per norm layer alive until the backward pass. Here the backward pass is written out (the
 * standard normalisation gradient) and only `x` plus per-group statistics are kept, which
 * halves a U-Net's activation memory (see the package README's memory note). On a backend
 * that registers {@link NATIVE_NORM_KERNEL} (backend-native) its forward and backward
 * kernels do the normalisation maths.
 */
export function fusedNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, options: FusedNormOptions): FusedNormResult {
  const c = x.shape[x.rank - 1]!;
  const { groups, acrossBatch, epsilon, negativeSlope: slope } = options;
  if (c % groups !== 0) throw new Error(`fusedNorm: ${groups} groups do not divide ${c} channels`);
  const n = x.shape[0]!;
  const statShape = acrossBatch ? [groups] : [n, groups];
  const auto = (options.implementation ?? 'auto') === 'auto' && x.dtype === 'float32';
  const native = auto && tf.getKernel(NATIVE_NORM_KERNEL, tf.getBackend()) !== undefined;
  // The cpu backend keeps tensors as JS typed arrays: plain loops read them without copies.
  const loops = auto && !native && tf.getBackend() === 'cpu';
  const geometry: NormGeometry = { n, s: x.size / (n * c), c, groups, acrossBatch };
  const gStatShape = [acrossBatch ? 1 : n, 1, groups, 1];
  const kernelAttrs: FusedNormKernelAttrs = { groups, acrossBatch, epsilon };
  const attrs = kernelAttrs as unknown as tf.NamedAttrMap;
  // The native kernels fuse the LeakyReLU (forward) and its gradient (backward, given y).
  const nativeAttrs = (slope === undefined ? kernelAttrs : { ...kernelAttrs, negativeSlope: slope }) as unknown as tf.NamedAttrMap;
  // [B, M, G, K]: statistics over axes 1 and 3 (space and the channels of a group).
  const grouped = [acrossBatch ? 1 : n, -1, groups, c / groups];
  const reduceAxes = x.shape.slice(0, -1).map((_, i) => i);
  const stats: { mean?: tf.Tensor; variance?: tf.Tensor } = {};

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // Forward. Natively: one kernel; otherwise tfjs ops in a tidy. Either way only the input,
    // gamma, per-group statistics and the output are kept for the backward pass.
    const [y, aux] = tf.tidy(() => {
      let normed: tf.Tensor;
      let keepAux: tf.Tensor;
      if (loops) {
        const r = normForwardJs(
          xx.dataSync() as Float32Array,
          g.dataSync() as Float32Array,
          b.dataSync() as Float32Array,
          geometry,
          epsilon,
          slope,
        );
        stats.mean = tf.keep(tf.tensor(r.mean, gStatShape));
        stats.variance = tf.keep(tf.tensor(r.variance, gStatShape));
        return [tf.tensor(r.y, xx.shape), tf.tensor(r.invStd, gStatShape)];
      }
      if (native) {
        // The LeakyReLU runs inside the kernel's normalisation pass (nativeAttrs).
        const [yy, mean, variance] = tf.engine().runKernel(NATIVE_NORM_KERNEL, { x: xx, gamma: g, beta: b }, nativeAttrs) as tf.Tensor[];
        stats.mean = tf.keep(mean!);
        stats.variance = tf.keep(variance!);
        return [yy!, stats.variance];
      } else {
        const xg = tf.reshape(xx, grouped);
        const m = tf.moments(xg, [1, 3], true);
        const inv = tf.rsqrt(tf.add(m.variance, epsilon));
        normed = tf.add(tf.mul(tf.reshape(tf.mul(tf.sub(xg, m.mean), inv), xx.shape), g), b);
        stats.mean = tf.keep(m.mean);
        stats.variance = tf.keep(m.variance);
        keepAux = inv; // 1 / sqrt(var + eps)
      }
      return [slope === undefined ? normed : tf.leakyRelu(normed, slope), keepAux];
    });
    // The engine keeps its own references when recording. The output is saved for the
    // activation's mask: it is alive anyway (the next layer's input), so that costs nothing.
    save(slope === undefined ? [xx, g, stats.mean!, aux!] : [xx, g, stats.mean!, aux!, y!]);
    if (aux !== stats.variance) aux!.dispose();
    return {
      value: y!,
      // Computed eagerly in a tidy: tfjs calls gradFunc outside any scope of its own, so
      // temporaries would otherwise live until the whole backward pass ends.
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => {
          const [sx, sg, sMean, sAux, sy] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
          let upstream = Array.isArray(dy) ? dy[0]! : dy;
          // LeakyReLU: dy where the output is positive, slope * dy elsewhere (sign(out) = sign(in)).
          if (loops) {
            const r = normBackwardJs(
              upstream.dataSync() as Float32Array,
              sx.dataSync() as Float32Array,
              sy?.dataSync() as Float32Array | undefined,
              sg.dataSync() as Float32Array,
              sMean.dataSync() as Float32Array,
              sAux.dataSync() as Float32Array,
              geometry,
              slope,
            );
            return [tf.tensor(r.dx, sx.shape), tf.tensor(r.dgamma, [c]), tf.tensor(r.dbeta, [c])];
          }
          if (native) {
            // With the slope, the kernel takes dy through the LeakyReLU itself (needs y).
            return tf.engine().runKernel(
              NATIVE_NORM_BACKWARD_KERNEL,
              slope === undefined ? { dy: upstream, x: sx, mean: sMean, variance: sAux, gamma: sg } : { dy: upstream, x: sx, mean: sMean, variance: sAux, gamma: sg, y: sy! },
              nativeAttrs,
            ) as tf.Tensor[];
          }
          if (slope !== undefined) upstream = tf.mul(upstream, tf.step(sy!, slope));
          const xhat = tf.mul(tf.sub(tf.reshape(sx, grouped), sMean), sAux);
          const dbeta = tf.sum(upstream, reduceAxes);
          const dgamma = tf.sum(tf.mul(upstream, tf.reshape(xhat, sx.shape)), reduceAxes);
          const dxhat = tf.reshape(tf.mul(upstream, sg), grouped);
          const m1 = tf.mean(dxhat, [1, 3], true);
          const m2 = tf.mean(tf.mul(dxhat, xhat), [1, 3], true);
          const dx = tf.reshape(tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(xhat, m2)), sAux), sx.shape);
          return [dx, dgamma, dbeta];
        });
        releaseUpstream(dy);
        return grads;
      },
    };
  });
  const y = op(x, gamma, beta);
  const mean = tf.reshape(stats.mean!, statShape);
  const variance = tf.reshape(stats.variance!, statShape);
  tf.dispose([stats.mean!, stats.variance!]);
  return { y, mean, variance };
}
