import * as tf from '@tensorflow/tfjs-core';
import { maxBindingBytes, runningSum } from './binding-split.js';

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
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
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

/**
 * Run `plan`: pieces of rows whose tensors all fit one binding (every piece the same number of
 * rows but the last). When one row alone exceeds the cap, `sub` (the split wrapper itself)
 * runs each row on its own, as a tensor of shape `[1, ...rowShape]` that it splits again along
 * its own leading axes (e.g. `[N,D,H,W,C] * [N,1,1,1,C]` with one sample above the cap: each
 * sample becomes `[1,D,H,W,C] * [1,1,1,1,C]`, split by voxels); without `sub` that is an error.
 */
function runRows(original: KernelFunc, args: Args, names: string[], plan: RowPlan, what: string, sub?: KernelFunc): tf.TensorInfo {
  const backend = args.backend as CopyBackend;
  const cap = Math.floor(maxBindingBytes(backend) / 4);
  const perRow = Math.max(size(plan.outRowShape), ...plan.parts.map((p) => (p.kind === 'rows' ? size(p.rowShape) : 0)));
  let per = Math.floor(cap / Math.max(1, perRow));
  let kernel = original;
  if (per < 1 && sub && plan.rows > 1) {
    per = 1;
    kernel = sub;
  }
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
    const res = kernel({ ...args, inputs: pieceInputs, attrs: plan.attrs ? plan.attrs(n) : args.attrs }) as tf.TensorInfo;
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
  const self: KernelFunc = (args) => {
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
      const res = self(flatArgs) as tf.TensorInfo;
      return { ...res, shape: outShape };
    }
    if (!anyTooBig(backend, [...shapes, outShape])) return original(args);
    // Select broadcasts a rank-1 condition along the first axis, not the last: only equal shapes split.
    if ((name === 'Select' || name === 'AddN') && !same) return original(args);
    const b = broadcastRows(shapes, outShape);
    if (!b) return original(args);
    const rows = size(outShape.slice(0, b.k));
    if (rows <= 1) return original(args);
    return runRows(original, args, names, { rows, parts: b.parts, outRowShape: outShape.slice(b.k), outShape }, name, self);
  };
  return self;
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

/** tfjs-core names Max's axes `reductionIndices`, every other reduction's `axis`. */
const axisKey = (name: string) => (name === 'Max' ? 'reductionIndices' : 'axis');

/** The reduction's axes, normalised and sorted. */
function axesOf(attrs: tf.NamedAttrMap, rank: number, key: string): number[] {
  const raw = attrs[key] as number | number[] | undefined;
  const list = raw === undefined || raw === null ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/** The largest divisor of `n` that is at most `max` (1 when none larger exists). */
export function largestDivisorAtMost(n: number, max: number): number {
  let best = 1;
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    if (d <= max) best = Math.max(best, d);
    if (n / d <= max) best = Math.max(best, n / d);
  }
  return best;
}

function reduceSplit(name: string, original: KernelFunc, arg: boolean): KernelFunc {
  const self: KernelFunc = (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const x = args.inputs[names[0]!] as tf.TensorInfo;
    if (!tooBig(backend, x.shape)) return original(args);
    const rank = x.shape.length;
    const key = axisKey(name);
    const axes = axesOf(args.attrs ?? {}, rank, key);
    const keepDims = Boolean(args.attrs?.keepDims);
    const outShape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
    const cap = Math.floor(maxBindingBytes(backend) / 4);
    const reduce = (t: tf.TensorInfo, axis: number[]) => self({ ...args, inputs: { [names[0]!]: t }, attrs: { ...args.attrs, [key]: arg ? axis[0]! : axis, keepDims: false } }) as tf.TensorInfo;
    const relabel = (t: tf.TensorInfo) => ({ ...t, shape: outShape });
    if (axes.length > 0 && axes[0]! > 0) {
      // Rows are the kept leading axes [0, k): each row reduces on its own (tfjs transposes
      // inside a piece when the reduced axes are not the innermost ones).
      const k = axes[0]!;
      const rows = size(x.shape.slice(0, k));
      const rowShape = x.shape.slice(k);
      const inRow = axes.map((a) => a - k);
      const outRowShape = rowShape.filter((_, a) => !inRow.includes(a));
      const unit = size(rowShape);
      if (unit <= cap) {
        const attrs = () => ({ ...args.attrs, [key]: arg ? inRow[0]! + 1 : inRow.map((a) => a + 1), keepDims: false });
        const res = runRows(original, { ...args, inputs: { [names[0]!]: { ...x, shape: [rows, ...rowShape] } } }, names, { rows, parts: [{ kind: 'rows', rowShape }], outRowShape, outShape: [rows, ...outRowShape], attrs }, name);
        return relabel(res);
      }
      // One row above the cap: each row is a reduction over its own leading axes (below).
      if (arg) return original(args);
      let out: tf.TensorInfo | undefined;
      const per = size(outRowShape);
      for (let r = 0; r < rows; r++) {
        const piece = rowsOf(backend, x, r * unit, rowShape);
        const res = reduce(piece, inRow);
        if (!out) {
          out = backend.makeTensorInfo([rows * per], res.dtype);
          backend.tensorMap.get(out.dataId)!.dtype = stored(backend, res);
        }
        copy(backend, res, 0, out, r * per, per);
        backend.disposeData(piece.dataId);
        backend.disposeData(res.dataId);
      }
      return relabel(out!);
    }
    const leading = axes.length > 0 && axes.every((a, i) => a === i);
    if (!leading || arg) return original(args);
    if (name === 'Mean') {
      // The sum (split as below), then divided by the count, as tfjs's reduction does.
      const sum = tf.getKernel('Sum', 'webgpu')!.kernelFunc({ ...args, inputs: { x }, attrs: { axis: axes, keepDims: false } }) as tf.TensorInfo;
      let num = sum;
      if (sum.dtype !== 'float32') {
        num = tf.getKernel('Cast', 'webgpu')!.kernelFunc({ inputs: { x: sum }, backend, attrs: { dtype: 'float32' } }) as tf.TensorInfo;
        backend.disposeData(sum.dataId);
      }
      const count = backend.makeTensorInfo([], 'float32', new Float32Array([size(axes.map((a) => x.shape[a]!))]));
      const res = tf.getKernel('RealDiv', 'webgpu')!.kernelFunc({ inputs: { a: num, b: count }, backend, attrs: {} }) as tf.TensorInfo;
      backend.disposeData(num.dataId);
      backend.disposeData(count.dataId);
      return relabel(res);
    }
    if (axes.length === rank) {
      // Every axis: rows of `u` values (the largest divisor of the size that fits), each row
      // reduced on its own, then the row results reduced again.
      const total = size(x.shape);
      const u = largestDivisorAtMost(total, cap);
      if (u < 2) return original(args);
      const partials = reduce({ ...x, shape: [total / u, u] }, [1]);
      const res = reduce(partials, [0]);
      backend.disposeData(partials.dataId);
      return relabel(res);
    }
    // Leading axes [0, k): partial results over blocks of the reduced rows, then the same
    // reduction over the partials.
    const k = axes.length;
    const rows = size(x.shape.slice(0, k));
    const rowShape = x.shape.slice(k);
    const unit = size(rowShape);
    const per = Math.floor(cap / unit);
    if (per < 1) return original(args);
    const blocks = Math.ceil(rows / per);
    // Each block of rows reduces to one row of the [blocks, ...rowShape] partials.
    let partials: tf.TensorInfo | undefined;
    for (let blk = 0; blk < blocks; blk++) {
      const n = Math.min(per, rows - blk * per);
      const piece = rowsOf(backend, x, blk * per * unit, [n, ...rowShape]);
      const p = original({ ...args, inputs: { [names[0]!]: piece }, attrs: { ...args.attrs, [key]: [0], keepDims: false } }) as tf.TensorInfo;
      if (!partials) {
        partials = backend.makeTensorInfo([blocks, ...rowShape], p.dtype);
        backend.tensorMap.get(partials.dataId)!.dtype = stored(backend, p);
      }
      copy(backend, p, 0, partials, blk * unit, unit);
      backend.disposeData(piece.dataId);
      backend.disposeData(p.dataId);
    }
    // The partials may still exceed a binding (many blocks): reduce them the same way.
    const res = reduce(partials!, [0]);
    backend.disposeData(partials!.dataId);
    return relabel(res);
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
    if (!anyTooBig(backend, [...list.map((t) => t.shape), outShape])) return original(args);
    if (axis === 0) {
      // Along the first axis each input is one contiguous range of the output: copy it there.
      // (Only when every buffer holds the same stored dtype: a relabelled int32 is not float32.)
      const dtype = list[0]!.dtype;
      const buffers = stored(backend, list[0]!);
      if (!list.every((t) => t.dtype === dtype && stored(backend, t) === buffers)) return original(args);
      const out = backend.makeTensorInfo(outShape, dtype);
      backend.tensorMap.get(out.dataId)!.dtype = buffers;
      let at = 0;
      for (const t of list) {
        copy(backend, t, 0, out, at, size(t.shape));
        at += size(t.shape);
      }
      return out;
    }
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
function untouched(name: string, shape: number[], attrs: tf.NamedAttrMap): { k: number; outRow: number[]; attrs: (n: number) => tf.NamedAttrMap; rowAttrs: () => tf.NamedAttrMap } | null {
  const rank = shape.length;
  const lead = (ok: (a: number) => boolean) => {
    let k = 0;
    while (k < rank - 1 && ok(k)) k++;
    return k;
  };
  if (name === 'Reverse') {
    const dims = ([] as number[]).concat(attrs.dims as number | number[]).map((d) => (d + rank) % rank);
    const k = Math.min(...dims, rank - 1);
    return { k, outRow: shape.slice(k), attrs: () => ({ ...attrs, dims: dims.map((d) => d - k + 1) }), rowAttrs: () => ({ ...attrs, dims: dims.map((d) => d - k) }) };
  }
  if (name === 'Transpose') {
    const perm = attrs.perm as number[];
    const k = lead((a) => perm[a] === a);
    return {
      k,
      outRow: perm.slice(k).map((p) => shape[p]!),
      attrs: () => ({ ...attrs, perm: [0, ...perm.slice(k).map((p) => p - k + 1)] }),
      rowAttrs: () => ({ ...attrs, perm: perm.slice(k).map((p) => p - k) }),
    };
  }
  if (name === 'Slice') {
    const [begin, sz] = tf.slice_util.parseSliceParams({ shape } as tf.TensorInfo, attrs.begin as number[], attrs.size as number[]);
    const k = lead((a) => begin[a] === 0 && sz[a] === shape[a]);
    return { k, outRow: sz.slice(k), attrs: (n) => ({ ...attrs, begin: [0, ...begin.slice(k)], size: [n, ...sz.slice(k)] }), rowAttrs: () => ({ ...attrs, begin: begin.slice(k), size: sz.slice(k) }) };
  }
  if (name === 'PadV2') {
    const pads = attrs.paddings as [number, number][];
    const k = lead((a) => pads[a]![0] === 0 && pads[a]![1] === 0);
    return {
      k,
      outRow: shape.slice(k).map((d, i) => d + pads[k + i]![0] + pads[k + i]![1]),
      attrs: () => ({ ...attrs, paddings: [[0, 0], ...pads.slice(k)] }),
      rowAttrs: () => ({ ...attrs, paddings: pads.slice(k) }),
    };
  }
  return null;
}

/** Kernels split by {@link untouched}. */
export const UNTOUCHED_SPLIT_KERNELS: readonly string[] = Object.freeze(['Reverse', 'Transpose', 'Slice', 'PadV2']);

/**
 * A Slice that cuts the first axis: its rows `[begin, begin + size)` are one contiguous range,
 * copied out whole; the rest of the slice (if any) then leaves the first axis untouched.
 */
function sliceFirstAxis(self: KernelFunc, args: Args, x: tf.TensorInfo): tf.TensorInfo {
  const backend = args.backend as CopyBackend;
  const [begin, sz] = tf.slice_util.parseSliceParams(x, args.attrs!.begin as number[], args.attrs!.size as number[]);
  const row = size(x.shape.slice(1));
  const rows = rowsOf(backend, x, begin[0]! * row, [sz[0]!, ...x.shape.slice(1)]);
  if (sz.every((d, a) => a === 0 || (begin[a] === 0 && d === x.shape[a]))) return rows;
  const res = self({ ...args, inputs: { x: rows }, attrs: { ...args.attrs, begin: [0, ...begin.slice(1)], size: sz } }) as tf.TensorInfo;
  backend.disposeData(rows.dataId);
  return res;
}

function untouchedSplit(name: string, original: KernelFunc): KernelFunc {
  const self: KernelFunc = (args) => {
    const backend = args.backend as CopyBackend;
    const names = Object.keys(args.inputs);
    const x = args.inputs[names[0]!] as tf.TensorInfo;
    if (names.length !== 1 || x.shape.length < 1) return original(args);
    const plan = untouched(name, x.shape, args.attrs ?? {});
    if (name === 'Slice' && plan && plan.k === 0 && tooBig(backend, x.shape)) return sliceFirstAxis(self, args, x);
    if (x.shape.length < 2 || !plan || plan.k === 0) return original(args);
    const outShape = [...x.shape.slice(0, plan.k), ...plan.outRow];
    if (!anyTooBig(backend, [x.shape, outShape])) return original(args);
    const rows = size(x.shape.slice(0, plan.k));
    const rowShape = x.shape.slice(plan.k);
    const cap = Math.floor(maxBindingBytes(backend) / 4);
    if (Math.max(size(rowShape), size(plan.outRow)) > cap) {
      // One row above the cap: each row on its own, as the same op on a tensor of the row's
      // shape (a Slice then cuts the row's first axis, see sliceFirstAxis).
      const out = backend.makeTensorInfo(outShape, x.dtype);
      const unit = size(rowShape);
      const per = size(plan.outRow);
      for (let r = 0; r < rows; r++) {
        const piece = rowsOf(backend, x, r * unit, rowShape);
        const res = self({ ...args, inputs: { [names[0]!]: piece }, attrs: plan.rowAttrs() }) as tf.TensorInfo;
        if (r === 0) backend.tensorMap.get(out.dataId)!.dtype = stored(backend, res);
        copy(backend, res, 0, out, r * per, per);
        backend.disposeData(piece.dataId);
        backend.disposeData(res.dataId);
      }
      return out;
    }
    const res = runRows(
      original,
      { ...args, inputs: { [names[0]!]: { ...x, shape: [rows, ...x.shape.slice(plan.k)] } } },
      names,
      { rows, parts: [{ kind: 'rows', rowShape: x.shape.slice(plan.k) }], outRowShape: plan.outRow, outShape: [rows, ...plan.outRow], attrs: plan.attrs },
      name,
    );
    return { ...res, shape: outShape };
  };
  return self;
}

/**
 * `BatchMatMul` (`tf.matMul`: the axial attention's projections and its q·kᵀ, p·v products):
 * with equal batch sizes each batch entry is independent (pieces of entries, and an entry
 * above the cap as its own product of rows); with one shared B (batch 1) and A not transposed,
 * A's rows and the output's rows are contiguous, so pieces of rows are multiplied by the whole B;
 * Aᵀ·B of one batch entry (the projections' weight gradient) sums partial products over pieces
 * of the rows A and B share.
 */
function batchMatMulSplit(original: KernelFunc): KernelFunc {
  const self: KernelFunc = (args) => {
    const backend = args.backend as CopyBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!a || !b || a.shape.length < 2 || b.shape.length < 2 || Object.keys(args.inputs).length !== 2) return original(args);
    const [a1, a2] = a.shape.slice(-2) as [number, number];
    const [b1, b2] = b.shape.slice(-2) as [number, number];
    const m = transposeA ? a2 : a1;
    const n = transposeB ? b1 : b2;
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
    if (!anyTooBig(backend, [a.shape, b.shape, outShape])) return original(args);
    if (batchA === batchB && batchA > 1) {
      const res = runRows(
        original,
        { ...args, inputs: { a: { ...a, shape: [batchA, a1, a2] }, b: { ...b, shape: [batchB, b1, b2] } } },
        ['a', 'b'],
        { rows: batchA, parts: [{ kind: 'rows', rowShape: [a1, a2] }, { kind: 'rows', rowShape: [b1, b2] }], outRowShape: [m, n], outShape: [batchA, m, n] },
        'BatchMatMul',
        self,
      );
      return { ...res, shape: outShape };
    }
    if (batchB === 1 && !transposeA) {
      const rows = batchA * m;
      const res = runRows(
        original,
        { ...args, inputs: { a: { ...a, shape: [rows, a2] }, b: { ...b, shape: [b1, b2] } } },
        ['a', 'b'],
        { rows, parts: [{ kind: 'rows', rowShape: [a2] }, { kind: 'whole' }], outRowShape: [n], outShape: [rows, n] },
        'BatchMatMul',
      );
      return { ...res, shape: outShape };
    }
    if (transposeA && !transposeB && batchA === 1 && batchB === 1 && m * n <= Math.floor(maxBindingBytes(backend) / 4)) {
      // Aᵀ·B (a weight gradient: the reduction runs over the rows of both): partial products
      // over pieces of the shared rows, added up (float32 reassociation of the sum).
      const cap = Math.floor(maxBindingBytes(backend) / 4);
      const per = Math.floor(cap / Math.max(a2, b2, 1));
      if (per < 1) return original(args);
      const total = runningSum(backend);
      for (let r = 0; r < a1; r += per) {
        const rows = Math.min(per, a1 - r);
        const ap = rowsOf(backend, a, r * a2, [rows, a2]);
        const bp = rowsOf(backend, b, r * b2, [rows, b2]);
        const part = original({ ...args, inputs: { a: ap, b: bp } }) as tf.TensorInfo;
        backend.disposeData(ap.dataId);
        backend.disposeData(bp.dataId);
        total.add(part);
      }
      return { ...total.result()!, shape: outShape };
    }
    return original(args);
  };
  return self;
}

/**
 * `SplitV` (`tf.split`: the axial attention's heads): tfjs-backend-webgpu slices each part with
 * its internal slice; above the cap each part goes through the registered `Slice` instead,
 * which splits (same slice programs on pieces, exact).
 */
function splitVSplit(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    if (!x || !tooBig(backend, x.shape)) return original(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a);
    const slice = tf.getKernel('Slice', 'webgpu')!.kernelFunc;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const sz = [...x.shape];
      sz[a] = s;
      const part = slice({ inputs: { x }, backend, attrs: { begin: [...begin], size: sz } }) as tf.TensorInfo;
      begin[a] = begin[a]! + s;
      return part;
    });
  };
}

/** `Fill` (`tf.fill`): one binding-sized piece filled, then copied over the output. */
function fillSplit(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as CopyBackend;
    const { shape, dtype } = (args.attrs ?? {}) as { shape?: number[]; dtype?: tf.DataType };
    if (!shape || dtype === 'string' || !tooBig(backend, shape)) return original(args);
    const total = size(shape);
    const cap = Math.floor(maxBindingBytes(backend) / 4);
    const piece = original({ ...args, attrs: { ...args.attrs, shape: [cap] } }) as tf.TensorInfo;
    const out = backend.makeTensorInfo(shape, piece.dtype);
    backend.tensorMap.get(out.dataId)!.dtype = stored(backend, piece);
    for (let at = 0; at < total; at += cap) copy(backend, piece, 0, out, at, Math.min(cap, total - at));
    backend.disposeData(piece.dataId);
    return out;
  };
}

/** Every tfjs kernel name that {@link splitAboveBindingLimit} wraps. */
export const ROW_SPLIT_KERNELS: readonly string[] = Object.freeze([
  ...UNARY_SPLIT_KERNELS, ...BROADCAST_SPLIT_KERNELS, ...REDUCE_SPLIT_KERNELS, ...ARG_SPLIT_KERNELS, 'Concat', ...UNTOUCHED_SPLIT_KERNELS, 'BatchMatMul', 'SplitV', 'Fill',
]);

const WRAPPED = Symbol.for('voxseg.webgpu.rowSplit');

/** The split wrapper for a kernel name, or null when it has none. */
function splitFor(name: string, original: KernelFunc): KernelFunc | null {
  if (UNARY_SPLIT_KERNELS.includes(name)) return unarySplit(name, original);
  if (BROADCAST_SPLIT_KERNELS.includes(name)) return broadcastSplit(name, original);
  if (REDUCE_SPLIT_KERNELS.includes(name)) return reduceSplit(name, original, false);
  if (ARG_SPLIT_KERNELS.includes(name)) return reduceSplit(name, original, true);
  if (name === 'Concat') return concatSplit(original);
  if (UNTOUCHED_SPLIT_KERNELS.includes(name)) return untouchedSplit(name, original);
  if (name === 'BatchMatMul') return batchMatMulSplit(original);
  if (name === 'SplitV') return splitVSplit(original);
  if (name === 'Fill') return fillSplit(original);
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
