import * as tf from '@tensorflow/tfjs-core';
import { runWgsl, WgslProgram, type WgslRunner } from './wgsl-program.js';

/**
 * `BatchMatMul` with a short reduction (K ≤ {@link DIRECT_MATMUL_MAX_K}) as one thread per
 * output value, no workgroup memory and no barrier; longer reductions, other dtypes and batch
 * broadcasts other than "one side has batch 1" stay on tfjs-backend-webgpu's kernels.
 *
 * Why: the axial attention of BL+AA multiplies many tiny matrices (per sequence 16x16 by 16x16,
 * or 8-wide projections), where tfjs-backend-webgpu 4.22's tiled programs stage tiles in
 * workgroup memory behind barriers for a reuse that a K of 8-64 barely has. On SwiftShader,
 * where barriers are dear, they took 101 s of a 130 s
 * BL+AA training step at patch 32 (e.g. 256 products of 16x16x16: 0.88 s). Each output here
 * reads its row of A and column of B (neighbouring threads: neighbouring columns, so B reads
 * are contiguous and A reads shared); transposes are only other strides, so one shader serves
 * every shape and both transpose flags.
 */
export const DIRECT_MATMUL_MAX_K = 256;

const THREADS = 64;

const BODY = `
        let i = workgroupIndex() * ${THREADS} + i32(localId.x);
        if (i >= uniforms.size) { return; }
        let n = i % uniforms.N; let t = i / uniforms.N;
        let m = t % uniforms.M; let b = t / uniforms.M;
        var ai = b * uniforms.aBatch + m * uniforms.aRow;
        var bi = b * uniforms.bBatch + n * uniforms.bCol;
        var acc = 0.0;
        for (var k = 0; k < uniforms.K; k++) {
          acc = fma(A[ai], B[bi], acc);
          ai += uniforms.aStep;
          bi += uniforms.bStep;
        }
        result[i] = acc;`;

/** The direct kernel's plan for a product, or null when it should stay on tfjs's kernels. */
export function directMatMulPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): { outShape: number[]; batch: number; M: number; N: number; K: number; uniforms: number[] } | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const M = transposeA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const K = transposeA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const N = transposeB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const kB = transposeB ? bShape[rb - 1]! : bShape[rb - 2]!;
  if (K !== kB || K > DIRECT_MATMUL_MAX_K || K === 0 || M === 0 || N === 0) return null;
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = outerA.reduce((p, d) => p * d, 1);
  const batchB = outerB.reduce((p, d) => p * d, 1);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const batch = Math.max(batchA, batchB);
  if (outer.reduce((p, d) => p * d, 1) !== batch) return null;
  // Element strides: A[b, m, k] and B[b, k, n] in the stored (possibly transposed) layouts.
  const uniforms = [
    batch * M * N, M, N, K,
    batchA === 1 ? 0 : M * K, transposeA ? 1 : K, transposeA ? M : 1,
    batchB === 1 ? 0 : K * N, transposeB ? K : 1, transposeB ? 1 : N,
  ];
  return { outShape: [...outer, M, N], batch, M, N, K, uniforms };
}

const WRAPPED = Symbol.for('voxseg.webgpu.directMatMul');

/** Wrap `BatchMatMul` on `backendName` with the direct kernel for short reductions (idempotent). */
export function directBatchMatMul(backendName = 'webgpu'): void {
  const original = tf.getKernel('BatchMatMul', backendName);
  if (!original || (original.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED]) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? directMatMulPlan(a.shape, b.shape, !!transposeA, !!transposeB) : null;
    if (!plan) return original.kernelFunc(args);
    const size = plan.batch * plan.M * plan.N;
    const program = new WgslProgram(
      'VoxsegBatchMatMul', 'voxseg_batch_matmul', ['A', 'B'], size,
      ['size', 'M', 'N', 'K', 'aBatch', 'aRow', 'aStep', 'bBatch', 'bCol', 'bStep'],
      Math.ceil(size / THREADS), THREADS, BODY,
    );
    return runWgsl(args.backend as unknown as WgslRunner, program, [a, b], plan.uniforms, plan.outShape);
  };
  (kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({ ...original, kernelFunc });
}
