import type * as tf from '@tensorflow/tfjs-core';
import { getKernel } from '@tensorflow/tfjs-core';
import { WebGPUError } from '../backend/error-guard.js';

/**
 * Tensors larger than one storage-buffer binding.
 *
 * WebGPU binds a storage buffer to a shader only up to `maxStorageBufferBindingSize` bytes
 * (128 MiB unless the device asks for more; the adapter's own limit is requested here, but
 * browsers and some drivers stop at 128 MiB to 2 GiB). tfjs-backend-webgpu always binds a
 * tensor's whole buffer, so a `[2, 128, 128, 128, 32]` activation (512 MiB) cannot be the input
 * of any kernel on such a device. voxseg's kernels (conv3d GEMM, fused norms) instead run in
 * pieces: each dispatch binds a sub-range of the big tensors (`{ buffer, offset, size }`),
 * starting at the piece's first element rounded down to `minStorageBufferOffsetAlignment`;
 * the shader subtracts that start (`base`, in elements) from its global indices.
 *
 * The cap can be lowered, so that the pieces are exercised on small tensors in tests: the
 * environment variable `VOXSEG_WEBGPU_MAX_BINDING_BYTES` or {@link setMaxBindingBytes}.
 */

/** The part of tfjs-backend-webgpu's backend that views need. */
export interface ViewBackend extends tf.KernelBackend {
  device: GPUDevice;
  tensorMap: { get(id: object): { resource?: unknown; dtype: tf.DataType; shape: number[] } | undefined; set(id: object, v: object): void; delete(id: object): boolean };
  uploadToGPU(dataId: object): void;
  tensorToBinding(t?: tf.TensorInfo): GPUBindingResource | null;
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: unknown, output?: tf.TensorInfo): tf.TensorInfo;
}

let override: number | undefined;

/**
 * Cap the bytes voxseg's kernels bind per storage buffer below the device's limit (tests);
 * `undefined` restores the default (the device limit, or `VOXSEG_WEBGPU_MAX_BINDING_BYTES`).
 */
export function setMaxBindingBytes(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isInteger(bytes) && bytes >= 16384)) {
    throw new Error(`setMaxBindingBytes: expected an integer of at least 16384 bytes, got ${bytes}`);
  }
  override = bytes;
}

function envCap(): number | undefined {
  const raw = typeof process !== 'undefined' ? process.env?.VOXSEG_WEBGPU_MAX_BINDING_BYTES : undefined;
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 16384) {
    throw new Error(`VOXSEG_WEBGPU_MAX_BINDING_BYTES: expected an integer number of bytes >= 16384, got '${raw}'`);
  }
  return v;
}

/** Bytes one storage binding of voxseg's kernels may span on this backend. */
export function maxBindingBytes(backend: { device: GPUDevice }): number {
  const device = backend.device.limits.maxStorageBufferBindingSize;
  const cap = override ?? envCap();
  return Math.min(device, cap ?? Infinity);
}

/** Elements (float32) a binding may span, leaving room for the offset's round-down. */
export function maxBindingElements(backend: { device: GPUDevice }): number {
  const align = backend.device.limits.minStorageBufferOffsetAlignment;
  return Math.floor((maxBindingBytes(backend) - align) / 4);
}

const VIEWS = Symbol.for('voxseg.webgpu.bindingViews');

interface ViewRange {
  offset: number;
  size: number;
}

const elements = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * Install the binding rules on a backend (once; registration does it, views do it lazily):
 * - `tensorToBinding` binds the registered sub-range of a view's buffer;
 * - every program refuses, before it is recorded, to bind more than {@link maxBindingBytes}
 *   per tensor, with a one-line error naming the program, the tensor's shape and the limit.
 *   On a device this is what WebGPU's validation would reject (there only at the next read,
 *   through the error guard); with the cap lowered (`VOXSEG_WEBGPU_MAX_BINDING_BYTES`,
 *   {@link setMaxBindingBytes}) it makes SwiftShader behave as a device with that limit, so a
 *   kernel without a split fails in tests instead of silently binding the whole tensor.
 */
export function installBindingRules(backend: ViewBackend): WeakMap<object, ViewRange> {
  const b = backend as unknown as Record<symbol, WeakMap<object, ViewRange>>;
  if (b[VIEWS]) return b[VIEWS];
  const ranges = new WeakMap<object, ViewRange>();
  const bind = backend.tensorToBinding.bind(backend);
  backend.tensorToBinding = (t?: tf.TensorInfo) => {
    const r = t ? ranges.get(t.dataId) : undefined;
    if (!r || !t) return bind(t);
    return { buffer: backend.tensorMap.get(t.dataId)!.resource as GPUBuffer, offset: r.offset, size: r.size };
  };
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, inputs, dtype, uniforms, output) => {
    const cap = maxBindingBytes(backend);
    const check = (t: tf.TensorInfo | undefined, shape: readonly number[]) => {
      const bytes = (t && ranges.get(t.dataId)?.size) ?? elements(shape) * 4;
      if (bytes <= cap) return;
      const p = program as { label?: unknown; constructor: { name: string } };
      const name = typeof p.label === 'string' ? p.label : p.constructor.name;
      const lowered = cap < backend.device.limits.maxStorageBufferBindingSize;
      throw new WebGPUError(
        `WebGPU kernel ${name}: binding a tensor [${shape.join(', ')}] of ${bytes} bytes exceeds the storage-binding limit of ${cap} bytes` +
          `${lowered ? ' (lowered by VOXSEG_WEBGPU_MAX_BINDING_BYTES or setMaxBindingBytes)' : " (the device's maxStorageBufferBindingSize)"}; this kernel has no split for that shape`,
      );
    };
    check(output, output?.shape ?? (program as { outputShape: number[] }).outputShape);
    for (const t of inputs) check(t, t.shape);
    return run(program, inputs, dtype, uniforms, output);
  };
  b[VIEWS] = ranges;
  return ranges;
}

/**
 * Run `f` with views of elements `[first, end)` of each tensor (same-size float32 tensors):
 * each view is a TensorInfo of shape `[end - base]` bound as a sub-range of the tensor's buffer,
 * where `base` (passed to `f`) is `first` rounded down to the offset alignment. The views exist
 * only during `f` (they own nothing: disposing the tensors frees the buffers).
 */
export function withViews<R>(backend: ViewBackend, tensors: tf.TensorInfo[], first: number, end: number, f: (views: tf.TensorInfo[], base: number) => R): R {
  const ranges = installBindingRules(backend);
  const align = backend.device.limits.minStorageBufferOffsetAlignment;
  const byteStart = Math.floor((first * 4) / align) * align;
  const base = byteStart / 4;
  const size = end * 4 - byteStart;
  const ids: object[] = [];
  try {
    const views = tensors.map((t) => {
      backend.uploadToGPU(t.dataId);
      const data = backend.tensorMap.get(t.dataId)!;
      const id = {};
      ids.push(id);
      backend.tensorMap.set(id, { values: null, dtype: t.dtype, shape: [end - base], refCount: 1, resource: data.resource });
      ranges.set(id, { offset: byteStart, size });
      return { dataId: id as tf.DataId, shape: [end - base], dtype: t.dtype } as tf.TensorInfo;
    });
    return f(views, base);
  } finally {
    for (const id of ids) backend.tensorMap.delete(id);
  }
}

/**
 * Split `[0, total)` into consecutive pieces of whole units (`unit` elements each, e.g. one
 * row of C channels or one sample) whose span fits one binding. Throws when one unit alone is
 * larger than a binding.
 */
export function pieces(total: number, unit: number, maxElements: number, what: string): [number, number][] {
  const per = Math.floor(maxElements / unit);
  if (per < 1) {
    throw new Error(`${what}: one unit of ${unit} float32 values (${unit * 4} bytes) exceeds the storage-binding limit of ${maxElements * 4} bytes`);
  }
  const units = Math.ceil(total / unit);
  const out: [number, number][] = [];
  for (let u = 0; u < units; u += per) out.push([u * unit, Math.min(total, (u + per) * unit)]);
  return out;
}

/**
 * A running sum of partial results computed piece by piece (a gradient summed over the row
 * pieces or batch pieces that did not fit one binding): `add(part)` adds the part into the
 * total with webgpu's `Add` and frees both; `result()` is the sum (undefined if nothing was
 * added).
 */
export function runningSum(backend: tf.KernelBackend): { add(part: tf.TensorInfo): void; result(): tf.TensorInfo | undefined } {
  const add = getKernel('Add', 'webgpu')!.kernelFunc;
  let total: tf.TensorInfo | undefined;
  return {
    add(part) {
      if (!total) {
        total = part;
        return;
      }
      const next = add({ inputs: { a: total, b: part }, backend, attrs: {} }) as tf.TensorInfo;
      backend.disposeData(total.dataId);
      backend.disposeData(part.dataId);
      total = next;
    },
    result: () => total,
  };
}
