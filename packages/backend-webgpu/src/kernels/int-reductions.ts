import * as tf from '@tensorflow/tfjs-core';
import { isIntStored } from './stored-dtype.js';

/** Reductions taking `{axis, keepDims}`: tfjs-backend-webgpu runs them all through one `reduce()`. */
export const AXES_REDUCTIONS = ['Sum', 'Max', 'Min', 'Mean', 'Prod', 'All', 'Any'] as const;
/** Reductions taking one `axis` and no `keepDims`. */
export const ARG_REDUCTIONS = ['ArgMax', 'ArgMin'] as const;

const WRAPPED = Symbol.for('voxseg.webgpu.intReduction');

type KernelFunc = tf.KernelConfig['kernelFunc'];
type ReduceAttrs = { keepDims?: boolean } & Record<string, unknown>;

/**
 * A reduction whose axes are not the innermost ones, over an int32/bool buffer, moved first
 * through the registered `Transpose` (voxseg's, which handles integer buffers).
 *
 * tfjs-backend-webgpu 4.22 reduces over the innermost axes only; for any other axes it first
 * calls its own module-internal `transpose()`, not the registered kernel, so the fix in
 * `transpose-int.ts` never reaches it, and its TransposeProgram does not compile for `i32`
 * (`voxseg train` found it: `tf.sum(labels, [1, 2, 3])` in the validation Dice). Here such
 * inputs are transposed by the registered kernel, reduced over the innermost axes, and
 * reshaped when `keepDims` asks. Float buffers and innermost axes go straight to tfjs's kernel.
 */
export function intReductionKernel(original: KernelFunc, kind: 'axes' | 'arg', backendName = 'webgpu', axisAttr = 'axis'): KernelFunc {
  return (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    const backend = args.backend as tf.KernelBackend;
    const attrs = args.attrs as unknown as ReduceAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const perm = tf.backend_util.getAxesPermutation(kind === 'arg' ? [axes[0]!] : axes, rank);
    let reduced: tf.TensorInfo;
    if (perm == null || !isIntStored(backend, x)) {
      reduced = original(args) as tf.TensorInfo;
    } else {
      const transpose = tf.getKernel('Transpose', backendName)!.kernelFunc;
      const moved = transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
      const inner = tf.backend_util.getInnerMostAxes(kind === 'arg' ? 1 : axes.length, rank);
      const innerAttrs = kind === 'arg' ? { ...attrs, [axisAttr]: inner[0]! } : { ...attrs, [axisAttr]: inner, keepDims: false };
      reduced = original({ ...args, inputs: { ...args.inputs, x: moved }, attrs: innerAttrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
      backend.disposeData(moved.dataId);
    }
    // The shape tfjs-core's ops promise. Besides keepDims after a transpose, this reshape mends
    // two shapes tfjs-backend-webgpu 4.22 gets wrong on its own: `Prod` drops keepDims when it
    // runs on CPU-resident data (small tensors), and `ArgMax`/`ArgMin` of a rank-1 tensor
    // return shape [1] where a scalar is due.
    const reducedAxes = kind === 'arg' ? [axes[0]!] : axes;
    const outShape = tf.backend_util.computeOutAndReduceShapes(x.shape, reducedAxes)[0];
    const shape = kind === 'axes' && attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, reducedAxes) : outShape;
    if (tf.util.arraysEqual(reduced.shape, shape)) return reduced;
    const reshape = tf.getKernel('Reshape', backendName)!.kernelFunc;
    const out = reshape({ inputs: { x: reduced }, backend, attrs: { shape } }) as tf.TensorInfo;
    backend.disposeData(reduced.dataId);
    return out;
  };
}

/** Wrap every reduction of `backendName` with {@link intReductionKernel}. Idempotent. */
export function fixIntReductions(backendName = 'webgpu'): void {
  const kinds: [string, 'axes' | 'arg'][] = [...AXES_REDUCTIONS.map((n) => [n, 'axes'] as [string, 'axes']), ...ARG_REDUCTIONS.map((n) => [n, 'arg'] as [string, 'arg'])];
  for (const [name, kind] of kinds) {
    const config = tf.getKernel(name, backendName);
    if (!config || (config.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED]) continue;
    // tfjs-core names Max's axes `reductionIndices`, every other reduction's `axis`.
    const kernelFunc = intReductionKernel(config.kernelFunc, kind, backendName, name === 'Max' ? 'reductionIndices' : 'axis');
    (kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED] = true;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ ...config, kernelFunc });
  }
}
