/**
 * The direct `BatchMatMul` (short reductions) against tfjs's `cpu` backend: every transpose
 * combination, odd sizes, batch broadcasting, the attention's shapes, a gradient through it,
 * and the shapes it leaves to tfjs-backend-webgpu's own kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, runOn, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { DIRECT_MATMUL_MAX_K, directMatMulPlan } from './batch-matmul.js';

const status = await webgpuForTests();

describe('which products run directly', () => {
  it('short reductions with equal or single-sided batches; the rest stays on tfjs', () => {
    expect(directMatMulPlan([3, 5, 7], [3, 7, 4], false, false)?.outShape).toEqual([3, 5, 4]);
    expect(directMatMulPlan([7, 5], [3, 4, 7], true, true)?.outShape).toEqual([3, 5, 4]);
    expect(directMatMulPlan([5, DIRECT_MATMUL_MAX_K + 1], [DIRECT_MATMUL_MAX_K + 1, 3], false, false)).toBeNull();
    // [2,1] x [3] batches broadcast to 6: neither side is a single batch (tfjs-backend-webgpu
    // 4.22's own kernel fails on it too: "Size(60) must match the product of shape 2,3,5,4").
    expect(directMatMulPlan([2, 1, 5, 7], [3, 7, 4], false, false)).toBeNull();
    expect(directMatMulPlan([5, 7], [6, 4], false, false)).toBeNull();
  });
});

describe.skipIf(!status.available)('BatchMatMul on webgpu matches cpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // tfjs's BatchMatMul gradient does not sum over broadcast batch dimensions (on any backend), so
  // the broadcast cases compare the product only.
  const CASES: { name: string; a: number[]; b: number[]; tA: boolean; tB: boolean; grads?: false }[] = [
    { name: '3 x (5x7 . 7x4)', a: [3, 5, 7], b: [3, 7, 4], tA: false, tB: false },
    { name: 'A transposed', a: [3, 7, 5], b: [3, 7, 4], tA: true, tB: false },
    { name: 'B transposed', a: [3, 5, 7], b: [3, 4, 7], tA: false, tB: true },
    { name: 'both transposed', a: [3, 7, 5], b: [3, 4, 7], tA: true, tB: true },
    { name: 'rank 2 by a batch (broadcast A)', a: [5, 7], b: [2, 3, 7, 4], tA: false, tB: false, grads: false },
    { name: 'a batch by rank 2 (broadcast B)', a: [2, 33, 8], b: [20, 8], tA: false, tB: true, grads: false },
    { name: 'a projection, 4096x8 . 8x20', a: [4096, 8], b: [8, 20], tA: false, tB: false },
    { name: 'attention scores, 64 x (8x32 . (8x32)^T)', a: [64, 8, 32], b: [64, 8, 32], tA: false, tB: true },
    { name: 'K = 300 (tfjs kernel)', a: [2, 3, 300], b: [2, 300, 5], tA: false, tB: false },
  ];
  for (const c of CASES) {
    it(`${c.name}: ${c.grads === false ? 'values' : 'values and both gradients'}, no leaks`, async () => {
      const f = () => {
        const a = seeded(c.a, 1);
        const b = seeded(c.b, 2);
        const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, c.tA, c.tB);
        const y = mm(a, b);
        if (c.grads === false) return [y];
        const w = seeded(y.shape, 3);
        const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(mm(x, z), w)))([a, b]);
        return [y, da!, db!];
      };
      const cpu = await runOn('cpu', f);
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      const gpu = await runOn('webgpu', f);
      expect(tf.memory().numTensors).toBe(before);
      expect(gpu.length).toBe(cpu.length);
      ['product', 'grad A', 'grad B'].slice(0, cpu.length).forEach((what, i) => expect(relError(gpu[i]!, cpu[i]!), what).toBeLessThan(1e-5));
    });
  }
});
