import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

/** The typed array that backs a tensor in the cpu-style backend (no copy). */
export function values<T extends tf.TypedArray>(backend: MathBackendCPU, t: tf.TensorInfo): T {
  return backend.data.get(t.dataId).values as T;
}

/**
 * The tensor's data as a Float32Array: the backing array itself when it is one (the
 * usual case), else a converted copy. The cpu backend's Cast relabels int32/bool data as
 * float32 without converting, so a float32 tensor may be backed by an Int32Array or
 * Uint8Array.
 */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  const v = values(backend, t);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** A bool tensor's data as a Uint8Array (converted when stored otherwise). */
export function u8(backend: MathBackendCPU, t: tf.TensorInfo): Uint8Array {
  const v = values(backend, t);
  return v instanceof Uint8Array ? v : Uint8Array.from(v as ArrayLike<number>, (x) => (x ? 1 : 0));
}

/**
 * A float32 output array of n elements for a native kernel. Its contents are undefined
 * (it may be recycled, see Float32Pool): the kernel must write every element, or pass
 * `zero` when it may not.
 */
export function alloc(backend: MathBackendCPU, n: number, zero = false): Float32Array {
  const pool = (backend as MathBackendCPU & { allocFloat32?: (n: number) => Float32Array }).allocFloat32;
  if (!pool) return new Float32Array(n);
  const a = pool.call(backend, n);
  if (zero) a.fill(0);
  return a;
}

/** Wrap a freshly written array as the output tensor (the backend takes ownership). */
export function output(backend: MathBackendCPU, shape: number[], dtype: tf.DataType, data: tf.TypedArray): tf.TensorInfo {
  return backend.makeTensorInfo(shape, dtype, data);
}

/** Run the `cpu` backend's kernel for `name` (the fallback for cases we do not accelerate). */
export function cpuKernel(name: string, args: { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`@voxseg/backend-native: no cpu kernel ${name} to fall back on`);
  return k.kernelFunc({ inputs: args.inputs, backend: args.backend, attrs: args.attrs ?? {} }) as tf.TensorInfo | tf.TensorInfo[];
}

/** Product of the dimensions. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `[a,b,c]` for messages. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
