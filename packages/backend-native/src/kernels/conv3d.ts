import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { addon } from '../addon/load-addon.js';
import { alloc, f32, fmt, output, sizeOf } from './tensor-data.js';

type Shape5 = [number, number, number, number, number];
type Triple = number | [number, number, number];

/**
 * The 24 integers the addon's conv3d functions take, from tfjs's own `computeConv3DInfo`
 * (so 'same'/'valid' padding is exactly what tfjs computes): N, in D/H/W/C, out D/H/W/C,
 * kernel D/H/W, strides, pads front/top/left, pads back/bottom/right, dilations.
 */
export function convParams(info: tf.backend_util.Conv3DInfo): Int32Array {
  const p = info.padInfo;
  return Int32Array.from([
    info.batchSize, info.inDepth, info.inHeight, info.inWidth, info.inChannels,
    info.outDepth, info.outHeight, info.outWidth, info.outChannels,
    info.filterDepth, info.filterHeight, info.filterWidth,
    info.strideDepth, info.strideHeight, info.strideWidth,
    p.front, p.top, p.left, p.back, p.bottom, p.right,
    info.dilationDepth, info.dilationHeight, info.dilationWidth,
  ]);
}

/**
 * Channels (input and output side alike) from which the training forward and backward-data
 * convolutions run on oneDNN's blocked activation layout, the activations copied into it and
 * the result back in the same call (addon `layout` 1; see the package README, "Training
 * convolution"). Below, and where oneDNN picks no plain blocked layout or has no jit kernel for
 * it (channels not a multiple of its block; stride-2 backward-data on AVX2), they run on
 * channels-last as before.
 */
export const TRAIN_BLOCKED_FROM_CHANNELS = 16;

/**
 * Output voxels per sample from which a stride-1 filter gradient runs as GEMMs over the padded
 * activations (addon `layout` 1): measured 1.4-3x faster than oneDNN's `gemm:jit` from 16^3 up,
 * slower at 8^3 x 256 channels (README).
 */
export const TRAIN_GEMM_FILTER_FROM_VOXELS = 4096;

/** Which pass of a training convolution {@link trainLayoutFor} decides for. */
export type TrainPass = 'forward' | 'backwardData' | 'backwardFilter';

/**
 * Addon layout code for one pass of a training convolution of this geometry: 1 the new path
 * (blocked layout; for a stride-1 filter gradient the GEMMs), 0 channels-last as before issue 14.
 * `VOXSEG_CONV_TRAIN_LAYOUT=ndhwc|blocked` forces one for every pass (read on every call, for
 * A/B runs and tests); the addon still runs channels-last where the new path does not apply.
 */
export function trainLayoutFor(info: tf.backend_util.Conv3DInfo, pass: TrainPass = 'forward'): number {
  const forced = process.env['VOXSEG_CONV_TRAIN_LAYOUT'];
  if (forced === 'ndhwc') return 0;
  if (forced === 'blocked') return 1;
  const unit = [info.strideDepth, info.strideHeight, info.strideWidth, info.dilationDepth, info.dilationHeight, info.dilationWidth].every((v) => v === 1);
  if (pass === 'backwardFilter' && unit) return info.outDepth * info.outHeight * info.outWidth >= TRAIN_GEMM_FILTER_FROM_VOXELS ? 1 : 0;
  return info.inChannels >= TRAIN_BLOCKED_FROM_CHANNELS && info.outChannels >= TRAIN_BLOCKED_FROM_CHANNELS ? 1 : 0;
}

function conv3dInfo(op: string, xShape: number[], filterShape: number[], strides: Triple, dilations: Triple, pad: 'same' | 'valid'): tf.backend_util.Conv3DInfo {
  if (xShape.length !== 5 || filterShape.length !== 5) {
    throw new Error(`${op}: expected rank-5 input and filter, got x ${fmt(xShape)} filter ${fmt(filterShape)}`);
  }
  if (xShape[4] !== filterShape[3]) {
    throw new Error(`${op}: input channels ${xShape[4]} of x ${fmt(xShape)} do not match filter ${fmt(filterShape)}`);
  }
  return tf.backend_util.computeConv3DInfo(xShape as Shape5, filterShape as Shape5, strides, dilations, pad);
}

function assertShape(op: string, what: string, got: number[], want: number[]) {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`${op}: ${what} has shape ${fmt(got)}, expected ${fmt(want)}`);
  }
}

/** `Conv3D`: y = conv3d(x, filter), channels-last tensors, oneDNN forward primitive (layout: {@link trainLayoutFor}). */
export const conv3dConfig: tf.KernelConfig = {
  kernelName: tf.Conv3D,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dilations } = attrs as unknown as tf.Conv3DAttrs;
    const b = backend as MathBackendCPU;
    const info = conv3dInfo('Conv3D', x.shape, filter.shape, strides, dilations, pad);
    const run = sizeOf(info.outShape) > 0 && sizeOf(x.shape) > 0 && sizeOf(filter.shape) > 0;
    const y = alloc(b, sizeOf(info.outShape), !run);
    if (run) {
      addon().conv3dForward(f32(b, x), f32(b, filter), y, convParams(info), trainLayoutFor(info));
    }
    return output(b, info.outShape, 'float32', y);
  },
};

/** `Conv3DBackpropInputV2`: dx from dy and the filter; also tfjs's conv3dTranspose. */
export const conv3dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropInputV2,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, inputShape } = attrs as unknown as tf.Conv3DBackpropInputV2Attrs;
    const b = backend as MathBackendCPU;
    const info = conv3dInfo('Conv3DBackpropInputV2', inputShape, filter.shape, strides, 1, pad);
    assertShape('Conv3DBackpropInputV2', 'dy', dy.shape, info.outShape);
    const run = sizeOf(inputShape) > 0 && sizeOf(dy.shape) > 0 && sizeOf(filter.shape) > 0;
    const dx = alloc(b, sizeOf(inputShape), !run);
    if (run) {
      addon().conv3dBackwardData(f32(b, dy), f32(b, filter), dx, convParams(info), trainLayoutFor(info, 'backwardData'));
    }
    return output(b, [...inputShape], 'float32', dx);
  },
};

/** `Conv3DBackpropFilterV2`: the filter gradient from x and dy. */
export const conv3dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv3DBackpropFilterV2,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, filterShape } = attrs as unknown as tf.Conv3DBackpropFilterV2Attrs;
    const b = backend as MathBackendCPU;
    const info = conv3dInfo('Conv3DBackpropFilterV2', x.shape, filterShape, strides, 1, pad);
    assertShape('Conv3DBackpropFilterV2', 'dy', dy.shape, info.outShape);
    const run = sizeOf(filterShape) > 0 && sizeOf(x.shape) > 0 && sizeOf(dy.shape) > 0;
    const dw = alloc(b, sizeOf(filterShape), !run);
    if (run) {
      addon().conv3dBackwardFilter(f32(b, x), f32(b, dy), dw, convParams(info), trainLayoutFor(info, 'backwardFilter'));
    }
    return output(b, [...filterShape], 'float32', dw);
  },
};

/** Kernel: `conv3d(x, filter) + bias` in one oneDNN primitive (inputs x, filter, bias; attrs as Conv3D). */
export const CONV3D_BIAS = 'VoxsegConv3DBias';
/** Kernel: `[dFilter, dBias]` of {@link CONV3D_BIAS} in one primitive (inputs x, dy; attrs strides, pad, filterShape). */
export const CONV3D_BACKPROP_FILTER_BIAS = 'VoxsegConv3DBackpropFilterBias';

/** {@link CONV3D_BIAS} on `native`: saves the separate bias-add pass over the output. */
export const conv3dBiasConfig: tf.KernelConfig = {
  kernelName: CONV3D_BIAS,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, filter, bias } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias: tf.TensorInfo };
    const { strides, pad, dilations } = attrs as unknown as tf.Conv3DAttrs;
    const b = backend as MathBackendCPU;
    const info = conv3dInfo(CONV3D_BIAS, x.shape, filter.shape, strides, dilations ?? 1, pad);
    assertShape(CONV3D_BIAS, 'bias', bias.shape, [info.outChannels]);
    const run = sizeOf(info.outShape) > 0 && sizeOf(x.shape) > 0 && sizeOf(filter.shape) > 0;
    const y = alloc(b, sizeOf(info.outShape), !run);
    if (run) addon().conv3dForwardBias(f32(b, x), f32(b, filter), f32(b, bias), y, convParams(info), trainLayoutFor(info));
    else if (y.length > 0) {
      // No products to sum: every output is the bias.
      const bv = f32(b, bias);
      for (let i = 0; i < y.length; i++) y[i] = bv[i % bv.length]!;
    }
    return output(b, info.outShape, 'float32', y);
  },
};

/** {@link CONV3D_BACKPROP_FILTER_BIAS} on `native`: the bias gradient comes free with the filter's. */
export const conv3dBackpropFilterBiasConfig: tf.KernelConfig = {
  kernelName: CONV3D_BACKPROP_FILTER_BIAS,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, filterShape } = attrs as unknown as tf.Conv3DBackpropFilterV2Attrs;
    const b = backend as MathBackendCPU;
    const info = conv3dInfo(CONV3D_BACKPROP_FILTER_BIAS, x.shape, filterShape, strides, 1, pad);
    assertShape(CONV3D_BACKPROP_FILTER_BIAS, 'dy', dy.shape, info.outShape);
    const run = sizeOf(filterShape) > 0 && sizeOf(x.shape) > 0 && sizeOf(dy.shape) > 0;
    const dw = alloc(b, sizeOf(filterShape), !run);
    const db = new Float32Array(info.outChannels);
    if (run) addon().conv3dBackwardFilterBias(f32(b, x), f32(b, dy), dw, db, convParams(info), trainLayoutFor(info, 'backwardFilter'));
    return [output(b, [...filterShape], 'float32', dw), output(b, [info.outChannels], 'float32', db)];
  },
};

/**
 * Gradient of {@link CONV3D_BIAS}. Registered for the kernel name (it only runs where the
 * kernel does). dx is computed only when the tape asks for it (not for a network's input).
 */
export const conv3dBiasGradConfig: tf.GradConfig = {
  kernelName: CONV3D_BIAS,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dy = Array.isArray(dys) ? dys[0]! : dys;
    const [x, filter] = saved as [tf.Tensor, tf.Tensor];
    const { strides, pad } = attrs as unknown as tf.Conv3DAttrs;
    const [dw, db] = tf.engine().runKernel(CONV3D_BACKPROP_FILTER_BIAS, { x, dy }, { strides, pad, filterShape: filter.shape }) as tf.Tensor[];
    return {
      x: () => tf.engine().runKernel(tf.Conv3DBackpropInputV2, { dy, filter }, { strides, pad, inputShape: x.shape }) as tf.Tensor,
      filter: () => dw!,
      bias: () => db!,
    };
  },
};

/**
 * `conv3d(x, filter, strides, pad) + bias` (channels-last, tfjs filter layout), differentiable
 * in all three. On `native` the bias is fused into the convolution forward and into the
 * filter gradient, and the input gradient is skipped when nothing needs it; elsewhere it is
 * `tf.add(tf.conv3d(...), bias)`.
 */
export function nativeConv3dBias(x: tf.Tensor5D, filter: tf.Tensor5D, bias: tf.Tensor1D, strides: number | [number, number, number], pad: 'same' | 'valid'): tf.Tensor5D {
  const s: [number, number, number] = typeof strides === 'number' ? [strides, strides, strides] : strides;
  if (tf.getKernel(CONV3D_BIAS, tf.getBackend()) && x.dtype === 'float32') {
    return tf.engine().runKernel(CONV3D_BIAS, { x, filter, bias }, { strides: s, pad, dilations: [1, 1, 1] }) as tf.Tensor5D;
  }
  return tf.tidy(() => tf.add(tf.conv3d(x, filter, s, pad), bias));
}
