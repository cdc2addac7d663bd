import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_NORM_BACKWARD, FUSED_NORM_FORWARD, type FusedNormKernelAttrs } from '@voxseg/core';
import { addon } from '../addon/load-addon.js';
import { alloc, f32, fmt, output, sizeOf } from '../kernels/tensor-data.js';

/** Kernel names and attributes: the fused-norm contract lives in `@voxseg/core` (one home; see there). */
export const NORM_FORWARD = FUSED_NORM_FORWARD;
/** Gradients [dx, dgamma, dbeta] of {@link NORM_FORWARD}. */
export const NORM_BACKWARD = FUSED_NORM_BACKWARD;
/** Attributes of both norm kernels (core's {@link FusedNormKernelAttrs}). */
export type NormKernelAttrs = FusedNormKernelAttrs;

/** [N, S, C, G, acrossBatch] for the addon: channels-last x seen as [N, S, C]. */
function normShape(op: string, x: readonly number[], a: NormKernelAttrs): number[] {
  if (x.length < 2) throw new Error(`${op}: expected x of rank >= 2 (channels last), got ${fmt(x)}`);
  const c = x[x.length - 1]!;
  if (!Number.isInteger(a.groups) || a.groups < 1 || c % a.groups !== 0) {
    throw new Error(`${op}: ${c} channels of x ${fmt(x)} are not divisible into ${a.groups} groups`);
  }
  return [x[0]!, sizeOf(x.slice(1, -1)), c, a.groups, a.acrossBatch ? 1 : 0];
}

function statsShape(x: readonly number[], a: NormKernelAttrs): number[] {
  return a.acrossBatch ? [a.groups] : [x[0]!, a.groups];
}

function slopeOf(a: NormKernelAttrs): number | undefined {
  return typeof a.negativeSlope === 'number' && Number.isFinite(a.negativeSlope) ? a.negativeSlope : undefined;
}

const forward: tf.KernelConfig = {
  kernelName: NORM_FORWARD,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
    const a = attrs as unknown as NormKernelAttrs;
    const be = backend as MathBackendCPU;
    const sh = normShape(NORM_FORWARD, x.shape, a);
    const st = statsShape(x.shape, a);
    const y = alloc(be, sizeOf(x.shape));
    const mean = new Float32Array(sizeOf(st));
    const variance = new Float32Array(sizeOf(st));
    if (y.length > 0) {
      addon().normForward(f32(be, x), f32(be, gamma), f32(be, beta), y, mean, variance, sh, a.epsilon, slopeOf(a));
    }
    return [output(be, [...x.shape], 'float32', y), output(be, st, 'float32', mean), output(be, st, 'float32', variance)];
  },
};

const backward: tf.KernelConfig = {
  kernelName: NORM_BACKWARD,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance, gamma, y } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', tf.TensorInfo> & { y?: tf.TensorInfo };
    const a = attrs as unknown as NormKernelAttrs;
    const be = backend as MathBackendCPU;
    const sh = normShape(NORM_BACKWARD, x.shape, a);
    const c = x.shape[x.shape.length - 1]!;
    const dx = alloc(be, sizeOf(x.shape));
    const dgamma = new Float32Array(c);
    const dbeta = new Float32Array(c);
    if (dx.length > 0) {
      const slope = slopeOf(a);
      if (slope !== undefined && !y) throw new Error(`${NORM_BACKWARD}: negativeSlope ${slope} needs the forward output as input y`);
      if (slope !== undefined) addon().normBackward(f32(be, dy), f32(be, x), f32(be, mean), f32(be, variance), f32(be, gamma), dx, dgamma, dbeta, sh, a.epsilon, f32(be, y!), slope);
      else addon().normBackward(f32(be, dy), f32(be, x), f32(be, mean), f32(be, variance), f32(be, gamma), dx, dgamma, dbeta, sh, a.epsilon);
    }
    return [output(be, [...x.shape], 'float32', dx), output(be, [c], 'float32', dgamma), output(be, [c], 'float32', dbeta)];
  },
};

/**
 * Gradient of {@link NORM_FORWARD}: one native backward pass gives all three gradients
 * (the mean/variance outputs are statistics for running averages; no gradient flows
 * through them).
 */
export const normGradConfig: tf.GradConfig = {
  kernelName: NORM_FORWARD,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dy = Array.isArray(dys) ? dys[0]! : dys;
    const [x, gamma, y, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const inputs: tf.NamedTensorMap = { dy, x, mean, variance, gamma };
    if (slopeOf(attrs as unknown as NormKernelAttrs) !== undefined) inputs.y = y;
    const [dx, dgamma, dbeta] = tf.engine().runKernel(NORM_BACKWARD, inputs, attrs) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

/** The two norm kernels, registered on `native` with the other overrides. */
export const normKernelConfigs: tf.KernelConfig[] = [forward, backward];
