import * as tf from '@tensorflow/tfjs-core';
import { maxBindingBytes } from './binding-split.js';

/**
 * tfjs-backend-webgpu's own kernels on tensors larger than one storage binding.
 *
 * tfjs binds every tensor whole, so above `maxStorageBufferBindingSize` its kernels fail. But
 * `copyBufferToBuffer` has no binding limit: for an op that is independent across contiguous
 * leading "rows" of its flattened tensors, each piece of rows is copied into small temporary
 * tensors, the original kernel runs on them, and its result is copied into its range of the
 * big output. Inputs that do not vary across the rows (a broadcast bias) are passed whole.
 * Reductions over leading axes (bias gradients) become partial results over row blocks, then
 * the same reduction over the partials. The split path is taken only when some input or the
 * output exceeds the cap ({@link maxBindingBytes}, lowered in tests), so it costs nothing otherwise.
 */

/** The part of tfjs-backend-webgpu's backend the copies use. */
interface CopyBackend extends tf.KernelBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(id: object): { resource?: unknown; dtype: tf.DataType; shape: number[] } | undefined };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** The dtype the backend stored (a Cast int32 -> float32 only relabels: the buffer stays int32). */
function stored(backend: CopyBackend, t: tf.TensorInfo): tf.DataType {
  return backend.tensorMap.get(t.dataId)?.dtype ?? t.dtype;
}

function bufferOf(backend: CopyBackend, t: tf.TensorInfo): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId)!.resource as GPUBuffer;
}

/** Copy `count` 4-byte elements, in order with the compute passes tfjs has queued. */
function copy(backend: CopyBackend, src: tf.TensorInfo, srcElem: number, dst: tf.TensorInfo, dstElem: number, count: number): void {
  if (count === 0) return;
  const from = bufferOf(backend, src);
  const to = bufferOf(backend, dst);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder!.copyBufferToBuffer(from, srcElem * 4, to, dstElem * 4, count * 4);
  // The buffers stay reserved until the queued commands are submitted, even if disposed now.
  backend.commandQueueOwnedIds.add(src.dataId);
  backend.commandQueueOwnedIds.add(dst.dataId);
}

/** A new tensor of `shape` holding elements `[first, first + size(shape))` of `src`. */
function rowsOf(backend: CopyBackend, src: tf.TensorInfo, first: number, shape: number[]): tf.TensorInfo {
  const t = backend.makeTensorInfo(shape, src.dtype);
  backend.tensorMap.get(t.dataId)!.dtype = stored(backend, src);
  copy(backend, src, first, t, 0, size(shape));
  return t;
}

/** True when a tensor of `bytes` does not fit one binding. */
function tooBig(backend: CopyBackend, shape: readonly number[]): boolean {
  return size(shape) * 4 > maxBindingBytes(backend);
}

/** How one input takes part in a row split. */
type Part = { kind: 'whole' } | { kind: 'rows'; rowShape: number[] };

/** A row split of one kernel call: R rows; each piece of rows runs the kernel with `attrs`. */
interface RowPlan {
  rows: number;
  parts: Part[];
  outRowShape: number[];
  outShape: number[];
  attrs?: (pieceRows: number) => tf.NamedAttrMap;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

/** Run `plan`: pieces of rows whose tensors all fit one binding. */
function runRows(original: KernelFunc, args: Args, names: string[], plan: RowPlan, what: string): tf.TensorInfo {
  const backend = args.backend as CopyBackend;
  const cap = Math.floor(maxBindingBytes(backend) / 4);
  const perRow = Math.max(size(plan.outRowShape), ...plan.parts.map((p) => (p.kind === 'rows' ? size(p.rowShape) : 0)));
  const per = Math.floor(cap / Math.max(1, perRow));
  if (per < 1) throw new Error(`WebGPU kernel ${what}: one row of ${perRow} values exceeds the storage-binding limit of ${cap * 4} bytes`);
  const inputs = names.map((n) => args.inputs[n] as tf.TensorInfo);
  let out: tf.TensorInfo | undefined;
  for (let r = 0; r < plan.rows; r += per) {
    const n = Math.min(per, plan.rows - r);
    const made: tf.TensorInfo[] = [];
    // Concat and AddN take their inputs as an array: keep the container's kind.
    const pieceInputs: Record<string, tf.TensorInfo> = (Array.isArray(args.inputs) ? [] : {}) as Record<string, tf.TensorInfo>;
    names.forEach((name, i) => {
      const part = plan.parts[i]!;
      if (part.kind === 'whole') {
        pieceInputs[name] = inputs[i]!;
      } else {
        const t = rowsOf(backend, inputs[i]!, r * size(part.rowShape), [n, ...part.rowShape]);
        made.push(t);
        pieceInputs[name] = t;
      }
    });
    const res = original({ ...args, inputs: pieceInputs, attrs: plan.attrs ? plan.attrs(n) : args.attrs }) as tf.TensorInfo;
    if (!out) {
      out = backend.makeTensorInfo(plan.outShape, res.dtype);
      backend.tensorMap.get(out.dataId)!.dtype = stored(backend, res);
    }
    copy(backend, res, 0, out, r * size(plan.outRowShape), n * size(plan.outRowShape));
    made.push(res);
    for (const t of made) backend.disposeData(t.dataId);
  }
  return out ?? backend.makeTensorInfo(plan.outShape, inputs[0]!.dtype);
}

/**
 * The row split of an n-ary broadcasting op: the most leading axes `k` such that every input,
 * aligned right to the output, either equals the output on axes `[0, k)` or is 1 there (where
 * the output's own axis is 1, both hold).
 */
export function broadcastRows(shapes: number[][], outShape: number[]): { k: number; parts: Part[] } | null {
  const rank = outShape.length;
  const aligned = shapes.map((s) => [...new Array(rank - s.length).fill(1), ...s]);
  let k = 0;
  const fits = (kk: number) =>
    aligned.every((s) => {
      let equal = true;
      let ones = true;
      for (let a = 0; a < kk; a++) {
        if (outShape[a] === 1) continue;
        if (s[a] !== outShape[a]) equal = false;
        if (s[a] !== 1) ones = false;
      }
      return equal || ones;
    });
  while (k < rank && fits(k + 1)) k++;
  if (k === 0) return null;
  const parts: Part[] = aligned.map((s) => (s.slice(0, k).every((d, a) => d === outShape[a]) && size(outShape.slice(0, k)) > 1 ? { kind: 'rows', rowShape: s.slice(k) } : { kind: 'whole' }));
  // An input of the output's rows that is also all ones there (rows === 1) is whole anyway.
  return { k, parts };
}

/** Element-wise kernels with one input (attrs independent of the shape). */
export const UNARY_SPLIT_KERNELS: readonly string[] = Object.freeze([
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Cast', 'Ceil', 'ClipByValue', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp',
  'Expm1', 'Floor', 'IsFinite', 'IsInf', 'IsNan', 'LeakyRelu', 'Log', 'Log1p', 'LogicalNot', 'Neg', 'OnesLike', 'Reciprocal', 'Relu',
  'Relu6', 'Round', 'Rsqrt', 'Selu', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus', 'Sqrt', 'Square', 'Step', 'Tan', 'Tanh', 'ZerosLike',
]);

/** Element-wise kernels with broadcasting inputs. */
export const BROADCAST_SPLIT_KERNELS: readonly string[] = Object.freeze([
  'Add', 'Atan2', 'EluGrad', 'Equal', 'FloorDiv', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr',
  'Maximum', 'Minimum', 'Mod', 'Multiply', 'NotEqual', 'Pow', 'Prelu', 'RealDiv', 'ReluGrad', 'Relu6Grad', 'SquaredDifference',
  'Sub', 'SigmoidGrad', 'TanhGrad', 'RsqrtGrad', 'SqrtGrad', 'Select', 'AddN',
]);

/** Reductions with `axis` and `keepDims`. */
export const REDUCE_SPLIT_KERNELS: readonly string[] = Object.freeze(['Sum', 'Max', 'Min', 'Mean', 'Prod', 'All', 'Any']);

/** Reductions to indices (`axis` is one axis). */
export const ARG_SPLIT_KERNELS: readonly string[] = Object.freeze(['ArgMax', 'ArgMin']);

function anyTooBig(backend: CopyBackend, shapes: number[][]): boolean {
  return shapes.some((s) => tooBig(backend, s));
}

function broadcastSplit(name: string, original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const shapes = names.map((n) => (args.inputs[n] as tf.TensorInfo).shape);
    const outShape = name === 'AddN' || name === 'Select' ? shapes[name === 'Select' ? 1 : 0]! : tf.backend_util.assertAndGetBroadcastShape(shapes[0]!, shapes[1]!);
    const same = shapes.every((s) => s.length === outShape.length && s.every((d, a) => d === outShape[a]));
    if (name === 'Select' && same && outShape.length > 4) {
      // tfjs-backend-webgpu's Select has no rank 5 ("Where for rank 5 is not yet supported"):
      // with equal shapes it is element-wise, so run it on flat views (then split as rank 1).
      const n = size(outShape);
      const flatArgs = { ...args, inputs: Object.fromEntries(names.map((k) => [k, { ...(args.inputs[k] as tf.TensorInfo), shape: [n] }])) };
      const res = broadcastSplit(name, original)(flatArgs) as tf.TensorInfo;
      return { ...res, shape: outShape };
    }
    if (!anyTooBig(backend, [...shapes, outShape])) return original(args);
    // Select broadcasts a rank-1 condition along the first axis, not the last: only equal shapes split.
    if ((name === 'Select' || name === 'AddN') && !same) return original(args);
    const b = broadcastRows(shapes, outShape);
    if (!b) return original(args);
    const rows = size(outShape.slice(0, b.k));
    if (rows <= 1) return original(args);
    return runRows(original, args, names, { rows, parts: b.parts, outRowShape: outShape.slice(b.k), outShape }, name);
  };
}

function unarySplit(name: string, original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const x = args.inputs[names[0]!] as tf.TensorInfo;
    if (names.length !== 1 || !tooBig(backend, x.shape)) return original(args);
    const rows = size(x.shape);
    const res = runRows(original, { ...args, inputs: { [names[0]!]: { ...x, shape: [rows] } } }, names, { rows, parts: [{ kind: 'rows', rowShape: [] }], outRowShape: [], outShape: [rows] }, name);
    return { ...res, shape: x.shape };
  };
}

/** The reduction's axes, normalised and sorted. */
function axesOf(attrs: tf.NamedAttrMap, rank: number): number[] {
  const raw = attrs.axis as number | number[] | undefined;
  const list = raw === undefined || raw === null ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

function reduceSplit(name: string, original: KernelFunc, arg: boolean): KernelFunc {
  const self: KernelFunc = (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const x = args.inputs[names[0]!] as tf.TensorInfo;
    if (!tooBig(backend, x.shape)) return original(args);
    const rank = x.shape.length;
    const axes = axesOf(args.attrs ?? {}, rank);
    const keepDims = Boolean(args.attrs?.keepDims);
    const outShape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
    const trailing = axes.length > 0 && axes.every((a, i) => a === rank - axes.length + i);
    const leading = axes.length > 0 && axes.every((a, i) => a === i);
    if (trailing && axes[0]! > 0) {
      // Rows are the kept leading axes: each row reduces on its own.
      const k = axes[0]!;
      const rows = size(x.shape.slice(0, k));
      const rowShape = x.shape.slice(k);
      const attrs = () => ({ ...args.attrs, axis: arg ? 1 : rowShape.map((_, i) => i + 1), keepDims: false });
      const res = runRows(original, { ...args, inputs: { [names[0]!]: { ...x, shape: [rows, ...rowShape] } } }, names, { rows, parts: [{ kind: 'rows', rowShape }], outRowShape: [], outShape: [rows], attrs }, name);
      return { ...res, shape: outShape };
    }
    if (leading && !arg && name !== 'Mean' && axes.length < rank) {
      // Partial results over blocks of the reduced rows, then the same reduction over the partials.
      const k = axes.length;
      const rows = size(x.shape.slice(0, k));
      const rowShape = x.shape.slice(k);
      const cap = Math.floor(maxBindingBytes(backend) / 4);
      const unit = size(rowShape);
      const per = Math.floor(cap / unit);
      if (per < 1) return original(args);
      const blocks = Math.ceil(rows / per);
      // Each block of rows reduces to one row of the [blocks, ...rowShape] partials.
      let partials: tf.TensorInfo | undefined;
      for (let blk = 0; blk < blocks; blk++) {
        const n = Math.min(per, rows - blk * per);
        const piece = rowsOf(backend, x, blk * per * unit, [n, ...rowShape]);
        const p = original({ ...args, inputs: { [names[0]!]: piece }, attrs: { ...args.attrs, axis: [0], keepDims: false } }) as tf.TensorInfo;
        if (!partials) {
          partials = backend.makeTensorInfo([blocks, ...rowShape], p.dtype);
          backend.tensorMap.get(partials.dataId)!.dtype = stored(backend, p);
        }
        copy(backend, p, 0, partials, blk * unit, unit);
        backend.disposeData(piece.dataId);
        backend.disposeData(p.dataId);
      }
      // The partials may still exceed a binding (many blocks): reduce them the same way.
      const res = self({ ...args, inputs: { [names[0]!]: partials! }, attrs: { ...args.attrs, axis: [0], keepDims: false } }) as tf.TensorInfo;
      backend.disposeData(partials!.dataId);
      return { ...res, shape: outShape };
    }
    return original(args);
  };
  return self;
}

/** Concat along an axis: the rows are the axes before it (every input has the same leading dims). */
function concatSplit(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const list = names.map((n) => args.inputs[n] as tf.TensorInfo);
    const rank = list[0]!.shape.length;
    const axis = ((args.attrs?.axis as number) + rank) % rank;
    const outShape = list[0]!.shape.map((d, a) => (a === axis ? list.reduce((p, t) => p + t.shape[axis]!, 0) : d));
    if (axis === 0 || !anyTooBig(backend, [...list.map((t) => t.shape), outShape])) return original(args);
    const rows = size(outShape.slice(0, axis));
    return runRows(
      original,
      args,
      names,
      { rows, parts: list.map((t) => ({ kind: 'rows' as const, rowShape: t.shape.slice(axis) })), outRowShape: outShape.slice(axis), outShape, attrs: () => ({ ...args.attrs, axis: 1 }) },
      'Concat',
    );
  };
}

/**
 * Ops that move values only within trailing axes (Reverse, Transpose, Slice, Pad, each
 * leaving leading axes untouched): the rows are those untouched axes, each row on its own.
 * Returns how many leading axes are untouched and the attrs for a piece of `n` rows.
 */
function untouched(name: string, shape: number[], attrs: tf.NamedAttrMap): { k: number; outRow: number[]; attrs: (n: number) => tf.NamedAttrMap } | null {
  const rank = shape.length;
  const lead = (ok: (a: number) => boolean) => {
    let k = 0;
    while (k < rank - 1 && ok(k)) k++;
    return k;
  };
  if (name === 'Reverse') {
    const dims = ([] as number[]).concat(attrs.dims as number | number[]).map((d) => (d + rank) % rank);
    const k = Math.min(...dims, rank - 1);
    return { k, outRow: shape.slice(k), attrs: () => ({ ...attrs, dims: dims.map((d) => d - k + 1) }) };
  }
  if (name === 'Transpose') {
    const perm = attrs.perm as number[];
    const k = lead((a) => perm[a] === a);
    return { k, outRow: perm.slice(k).map((p) => shape[p]!), attrs: () => ({ ...attrs, perm: [0, ...perm.slice(k).map((p) => p - k + 1)] }) };
  }
  if (name === 'Slice') {
    const [begin, sz] = tf.slice_util.parseSliceParams({ shape } as tf.TensorInfo, attrs.begin as number[], attrs.size as number[]);
    const k = lead((a) => begin[a] === 0 && sz[a] === shape[a]);
    return { k, outRow: sz.slice(k), attrs: (n) => ({ ...attrs, begin: [0, ...begin.slice(k)], size: [n, ...sz.slice(k)] }) };
  }
  if (name === 'PadV2') {
    const pads = attrs.paddings as [number, number][];
    const k = lead((a) => pads[a]![0] === 0 && pads[a]![1] === 0);
    return { k, outRow: shape.slice(k).map((d, i) => d + pads[k + i]![0] + pads[k + i]![1]), attrs: () => ({ ...attrs, paddings: [[0, 0], ...pads.slice(k)] }) };
  }
  return null;
}

/** Kernels split by {@link untouched}. */
export const UNTOUCHED_SPLIT_KERNELS: readonly string[] = Object.freeze(['Reverse', 'Transpose', 'Slice', 'PadV2']);

function untouchedSplit(name: string, original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const x = args.inputs[names[0]!] as tf.TensorInfo;
    if (names.length !== 1 || x.shape.length < 2) return original(args);
    const plan = untouched(name, x.shape, args.attrs ?? {});
    if (!plan || plan.k === 0) return original(args);
    const outShape = [...x.shape.slice(0, plan.k), ...plan.outRow];
    if (!anyTooBig(backend, [x.shape, outShape])) return original(args);
    const rows = size(x.shape.slice(0, plan.k));
    const res = runRows(
      original,
      { ...args, inputs: { [names[0]!]: { ...x, shape: [rows, ...x.shape.slice(plan.k)] } } },
      names,
      { rows, parts: [{ kind: 'rows', rowShape: x.shape.slice(plan.k) }], outRowShape: plan.outRow, outShape: [rows, ...plan.outRow], attrs: plan.attrs },
      name,
    );
    return { ...res, shape: outShape };
  };
}

const WRAPPED = Symbol.for('voxseg.webgpu.rowSplit');

/** The split wrapper for a kernel name, or null when it has none. */
function splitFor(name: string, original: KernelFunc): KernelFunc | null {
  if (UNARY_SPLIT_KERNELS.includes(name)) return unarySplit(name, original);
  if (BROADCAST_SPLIT_KERNELS.includes(name)) return broadcastSplit(name, original);
  if (REDUCE_SPLIT_KERNELS.includes(name)) return reduceSplit(name, original, false);
  if (ARG_SPLIT_KERNELS.includes(name)) return reduceSplit(name, original, true);
  if (name === 'Concat') return concatSplit(original);
  if (UNTOUCHED_SPLIT_KERNELS.includes(name)) return untouchedSplit(name, original);
  return null;
}

/**
 * Wrap every kernel registered on `backendName` that has a row split. Wraps the kernel
 * currently registered (the other fixes included), so call it last. Idempotent.
 */
export function splitAboveBindingLimit(backendName = 'webgpu'): void {
  for (const config of tf.getKernelsForBackend(backendName)) {
    if ((config.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED]) continue;
    const kernelFunc = splitFor(config.kernelName, config.kernelFunc);
    if (!kernelFunc) continue;
    // Keep the marks of the fixes underneath, so that registering them again stays idempotent.
    for (const mark of Object.getOwnPropertySymbols(config.kernelFunc)) {
      (kernelFunc as unknown as Record<symbol, unknown>)[mark] = (config.kernelFunc as unknown as Record<symbol, unknown>)[mark];
    }
    (kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED] = true;
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc });
  }
}
