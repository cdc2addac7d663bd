import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { addon } from '../addon/load-addon.js';
import { alloc, cpuKernel, f32, output, sizeOf } from './tensor-data.js';

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/**
 * Copy the box [begin, begin + size) of `src` (shape `shape`) into the contiguous `dst`:
 * the dimensions after the last partial one are whole, so each row is one contiguous run.
 */
export function copyBox(src: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: Float32Array, dstOffset = 0, dstRowStride?: number): void {
  const strides = stridesOf(shape);
  let k = shape.length - 1;
  while (k >= 0 && size[k] === shape[k]) k--;
  const inner = k < 0 ? sizeOf(shape) : size[k]! * (strides[k] ?? 1);
  let base = 0;
  for (let j = 0; j <= k; j++) base += begin[j]! * strides[j]!;
  if (inner === 0 || size.slice(0, Math.max(k, 0)).some((d) => d === 0)) return;
  // Row dimensions, merging neighbours that are contiguous in the source (whole after the
  // first), so a channel slice of [N, D, H, W, C] walks one dimension, not four.
  const dims: number[] = [];
  const rowStrides: number[] = [];
  for (let j = 0; j < k; j++) {
    const last = dims.length - 1;
    if (last >= 0 && size[j] === shape[j] && rowStrides[last] === strides[j]! * shape[j]!) {
      dims[last] = dims[last]! * size[j]!;
      rowStrides[last] = strides[j]!;
    } else if (size[j] !== 1) {
      dims.push(size[j]!);
      rowStrides.push(strides[j]!);
    }
  }
  addon().copyRows(src, dst, dims, rowStrides, base, inner, dstOffset, dstRowStride ?? inner);
}

/** `Slice`: any box of a float32 tensor, one memcpy per contiguous row. */
export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { begin, size } = attrs as unknown as tf.SliceAttrs;
    const be = backend as MathBackendCPU;
    if (x.dtype !== 'float32') return cpuKernel(tf.Slice, { inputs, backend: be, attrs });
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    tf.slice_util.assertParamsValid(x as tf.Tensor, b, s);
    const out = alloc(be, sizeOf(s));
    copyBox(f32(be, x), x.shape, b, s, out);
    return output(be, s, 'float32', out);
  },
};

/** `SplitV` (tf.split; the gradient of concat): native slices along the axis. */
export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
    const be = backend as MathBackendCPU;
    if (x.dtype !== 'float32') return cpuKernel(tf.SplitV, { inputs, backend: be, attrs });
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    const data = f32(be, x);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[ax] = n;
      const out = alloc(be, sizeOf(size));
      copyBox(data, x.shape, begin, size, out);
      begin[ax] = begin[ax]! + n;
      return output(be, size, 'float32', out);
    });
  },
};

/** `Concat` of float32 tensors: one strided row copy per input. */
export const concatConfig: tf.KernelConfig = {
  kernelName: tf.Concat,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const list = Object.values(inputs) as tf.TensorInfo[];
    const { axis } = attrs as unknown as tf.ConcatAttrs;
    const be = backend as MathBackendCPU;
    if (list.length === 0 || list.some((t) => t.dtype !== 'float32')) return cpuKernel(tf.Concat, { inputs, backend: be, attrs });
    const ax = tf.util.parseAxisParam(axis, list[0]!.shape)[0]!;
    tf.backend_util.assertParamsConsistent(list.map((t) => t.shape), ax);
    const outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), ax);
    const out = alloc(be, sizeOf(outShape));
    const outer = sizeOf(outShape.slice(0, ax));
    const rowStride = sizeOf(outShape.slice(ax));
    let offset = 0;
    for (const t of list) {
      const inner = sizeOf(t.shape.slice(ax));
      if (inner > 0 && outer > 0) addon().copyRows(f32(be, t), out, [outer], [inner], 0, inner, offset, rowStride);
      offset += inner;
    }
    return output(be, outShape, 'float32', out);
  },
};
