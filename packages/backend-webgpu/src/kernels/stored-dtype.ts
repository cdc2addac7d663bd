import type * as tf from '@tensorflow/tfjs-core';

/**
 * The dtype of the buffer behind `x` on the webgpu backend, which decides the WGSL type its
 * shaders read. It can differ from `x.dtype`: tfjs-backend-webgpu's `Cast` from int32 or bool
 * to float32 keeps the integer buffer and only relabels the tensor (no precision is lost), so
 * a `float32` tensor may still hold `i32`.
 */
export function storedDtype(backend: tf.KernelBackend, x: tf.TensorInfo): tf.DataType {
  const map = (backend as unknown as { tensorMap?: { get(id: object): { dtype: tf.DataType } | undefined } }).tensorMap;
  return map?.get(x.dataId)?.dtype ?? x.dtype;
}

/** True when `x`'s buffer holds integers (int32 or bool): see {@link storedDtype}. */
export function isIntStored(backend: tf.KernelBackend, x: tf.TensorInfo): boolean {
  const stored = storedDtype(backend, x);
  return stored === 'int32' || stored === 'bool';
}
