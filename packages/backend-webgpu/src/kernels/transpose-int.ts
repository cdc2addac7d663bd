import * as tf from '@tensorflow/tfjs-core';
import { isIntStored } from './stored-dtype.js';

/**
 * int32/bool -> float32 by value. tfjs-backend-webgpu's `Cast` to float32 keeps the int32
 * buffer and only relabels it (no precision is lost), so the transpose would still read `i32`.
 */
class ToFloatProgram {
  variableNames = ['A'];
  outputShape: number[];
  shaderKey = 'voxseg_to_float';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    const n = shape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(n / 64), 1, 1];
  }
  getUserCode(): string {
    return `fn main(index : i32) { if (index < uniforms.size) { setOutputAtIndex(index, f32(A[index])); } }`;
  }
}

/**
 * `Transpose` of int32 and bool tensors. tfjs-backend-webgpu 4.22's TransposeProgram passes
 * the input element (`i32`) to `setOutputAtIndex`, which takes `f32` for every output dtype:
 * the shader does not compile (found by the error guard in `voxseg train`, where a label
 * tensor is transposed). Here such a transpose runs on float32 (exact for |v| < 2^24, which
 * labels and masks are) and is cast back.
 */
export function transposeIntConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const backend = args.backend as tf.KernelBackend;
      // The buffer's own type decides the shader: a float32 tensor cast from int32 still holds i32.
      if (!isIntStored(backend, x)) return original.kernelFunc(args);
      const cast = tf.getKernel('Cast', 'webgpu')!.kernelFunc;
      const run = backend as unknown as { runWebGPUProgram(p: object, i: tf.TensorInfo[], d: tf.DataType): tf.TensorInfo };
      const xf = run.runWebGPUProgram(new ToFloatProgram([...x.shape]), [x], 'float32');
      const tf32 = original.kernelFunc({ ...args, inputs: { x: xf } }) as tf.TensorInfo;
      backend.disposeData(xf.dataId);
      if (x.dtype === 'float32') return tf32;
      const out = cast({ inputs: { x: tf32 }, backend, attrs: { dtype: x.dtype } }) as tf.TensorInfo;
      backend.disposeData(tf32.dataId);
      return out;
    },
  };
}
