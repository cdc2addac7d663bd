import * as tf from '@tensorflow/tfjs-core';

/**
 * `Reverse` and `PadV2` of rank-5 tensors. tfjs-backend-webgpu 4.22 handles at most rank 4 in
 * both: its ReverseProgram indexes the tensor as 4-D (a rank-5 input throws a shape error or,
 * for some axes, returns the wrong elements) and PadProgram's shader does not compile
 * (`cannot index type 'vec5'`). Both matter for voxseg: test-time augmentation mirrors
 * `[N, D, H, W, C]` windows, and padding a case up to the patch size pads every axis.
 *
 * Here such a call runs one axis at a time on a rank-3 view `[outer, axis, inner]` (a reshape
 * shares the buffer, no copy): mirroring several axes is mirroring each in turn, and padding
 * several axes with one constant is padding each in turn, so the result is exact.
 */
const FIXED = Symbol.for('voxseg.webgpu.axisByAxis');

/** One axis's op on the rank-3 view `[outer, axis, inner]`; `axis` is its index in the full shape. */
type Run = (view: tf.TensorInfo, axis: number) => tf.TensorInfo;

function reshape(backend: tf.KernelBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return tf.getKernel('Reshape', 'webgpu')!.kernelFunc({ inputs: { x }, backend, attrs: { shape } }) as tf.TensorInfo;
}

/** Apply `step` to each axis of `axes` in turn on a rank-3 view; intermediates are freed. */
function eachAxis(backend: tf.KernelBackend, x: tf.TensorInfo, axes: number[], step: Run, grow: (axis: number) => number): tf.TensorInfo {
  let cur = x;
  let shape = [...x.shape];
  for (const a of axes) {
    const outer = shape.slice(0, a).reduce((p, q) => p * q, 1);
    const inner = shape.slice(a + 1).reduce((p, q) => p * q, 1);
    const view = reshape(backend, cur, [outer, shape[a]!, inner]);
    const done = step(view, a);
    backend.disposeData(view.dataId);
    if (cur !== x) backend.disposeData(cur.dataId);
    shape = shape.map((s, i) => (i === a ? s + grow(a) : s));
    cur = reshape(backend, done, shape);
    backend.disposeData(done.dataId);
  }
  // No axis to change: a copy through the original kernel would do, but a reshape to the same
  // shape is what tfjs returns for identity ops too.
  return cur === x ? reshape(backend, x, [...x.shape]) : cur;
}

/** How one op runs axis by axis: the axes it changes, its attrs on the rank-3 view, growth per axis. */
interface AxisPlan {
  axes: number[];
  attrs(axis: number): tf.NamedAttrMap;
  grow(axis: number): number;
}

/** `original` for rank <= 4; above, `plan`'s axes one at a time through `original` on rank 3. */
function axisByAxisConfig(original: tf.KernelConfig, plan: (x: tf.TensorInfo, attrs: tf.NamedAttrMap) => AxisPlan): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.shape.length <= 4) return original.kernelFunc(args);
      const backend = args.backend as tf.KernelBackend;
      const { axes, attrs, grow } = plan(x, args.attrs ?? {});
      const step: Run = (v, axis) => original.kernelFunc({ inputs: { x: v }, backend, attrs: attrs(axis) }) as tf.TensorInfo;
      return eachAxis(backend, x, axes, step, grow);
    },
  };
}

const reverseConfig = (original: tf.KernelConfig) =>
  axisByAxisConfig(original, (x, attrs) => ({
    axes: [...new Set(tf.util.parseAxisParam(attrs.dims as number | number[], x.shape))].filter((a) => x.shape[a]! > 1),
    attrs: () => ({ dims: [1] }),
    grow: () => 0,
  }));

const padConfig = (original: tf.KernelConfig) =>
  axisByAxisConfig(original, (_x, attrs) => {
    const paddings = attrs.paddings as [number, number][];
    return {
      axes: paddings.map((p, a) => (p[0] + p[1] > 0 ? a : -1)).filter((a) => a >= 0),
      attrs: (axis) => ({ paddings: [[0, 0], paddings[axis]!, [0, 0]], constantValue: attrs.constantValue as number }),
      grow: (a) => paddings[a]![0] + paddings[a]![1],
    };
  });

/** Register the rank-5 routes over `backend`'s `Reverse` and `PadV2` (idempotent). */
export function fixRank5ReverseAndPad(backend = 'webgpu'): void {
  for (const [name, wrap] of [['Reverse', reverseConfig], ['PadV2', padConfig]] as const) {
    const k = tf.getKernel(name, backend);
    if (!k || (k.kernelFunc as unknown as Record<symbol, boolean>)[FIXED]) continue;
    const fixed = wrap(k);
    (fixed.kernelFunc as unknown as Record<symbol, boolean>)[FIXED] = true;
    tf.unregisterKernel(name, backend);
    tf.registerKernel(fixed);
  }
}
