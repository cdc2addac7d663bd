import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { addon } from '../addon/load-addon.js';
import { alloc, cpuKernel, f32, fmt, output, sizeOf } from './tensor-data.js';

/** a @ b over the batch dims (one side may broadcast a batch of 1), via oneDNN matmul. */
function batchMatMul(be: MathBackendCPU, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) {
    throw new Error(`BatchMatMul: inner dimensions ${K} and ${Kb} differ for a ${fmt(a.shape)} b ${fmt(b.shape)} transposeA ${transposeA} transposeB ${transposeB}`);
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null; // general broadcast: cpu
  const outShape = [...outer, M, N];
  const run = sizeOf(outShape) > 0 && K > 0;
  const c = alloc(be, sizeOf(outShape), !run);
  if (run) {
    addon().batchMatMul(f32(be, a), f32(be, b), c, Int32Array.from([batchA, batchB, M, N, K, transposeA ? 1 : 0, transposeB ? 1 : 0]));
  }
  return output(be, outShape, 'float32', c);
}

/** `BatchMatMul` (tf.matMul, attention). */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const be = backend as MathBackendCPU;
    return batchMatMul(be, a, b, transposeA, transposeB) ?? cpuKernel(tf.BatchMatMul, { inputs, backend: be, attrs });
  },
};

/** `_FusedMatMul` (tf.fused.matMul, dense layers): native product, then bias and activation kernels. */
export const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as tf._FusedMatMulAttrs;
    const be = backend as MathBackendCPU;
    const product = batchMatMul(be, a!, b!, transposeA, transposeB);
    if (!product) return cpuKernel(tf._FusedMatMul, { inputs, backend: be, attrs });
    let y = product;
    const run = (name: string, ins: tf.NamedTensorInfoMap, at: tf.NamedAttrMap = {}) => {
      const k = tf.getKernel(name, 'native')!;
      const next = k.kernelFunc({ inputs: ins, backend: be, attrs: at }) as tf.TensorInfo;
      be.disposeIntermediateTensorInfo(y);
      y = next;
    };
    if (bias) run(tf.Add, { a: y, b: bias });
    switch (activation) {
      case undefined:
      case 'linear': break;
      case 'relu': run(tf.Relu, { x: y }); break;
      case 'relu6': run(tf.Relu6, { x: y }); break;
      case 'elu': run(tf.Elu, { x: y }); break;
      case 'sigmoid': run(tf.Sigmoid, { x: y }); break;
      case 'leakyrelu': run(tf.LeakyRelu, { x: y }, { alpha: leakyreluAlpha ?? 0.2 }); break;
      case 'prelu': run(tf.Prelu, { x: y, alpha: preluActivationWeights! }); break;
      default: throw new Error(`_FusedMatMul: unknown activation '${String(activation)}'`);
    }
    return y;
  },
};
