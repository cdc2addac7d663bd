import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runOn, webgpuForTests } from '../__tests__/webgpu-test-env.js';

// tfjs-backend-webgpu 4.22 fails both at rank 5 (a shape error or wrong elements for Reverse,
// an uncompilable shader for Pad); `axis-by-axis.ts` runs them one axis at a time. The cpu
// backend is the reference; the values are exact (a permutation and a constant fill).
const status = await webgpuForTests();
describe.skipIf(!status.available)('rank-5 Reverse and PadV2 on webgpu', () => {
  const n = 2 * 3 * 4 * 5 * 3;
  const x = (dtype: 'float32' | 'int32' = 'float32') => tf.tensor5d(Int32Array.from({ length: n }, (_, i) => i), [2, 3, 4, 5, 3], dtype);
  for (const axes of [[1], [2], [3], [1, 2, 3], [0, 4], [-2, 2], [2, 3]]) {
    it(`reverse over ${axes.join(',')} equals cpu`, async () => {
      const [c] = await runOn('cpu', () => tf.reverse(x(), axes));
      const [g] = await runOn('webgpu', () => tf.reverse(x(), axes));
      expect(Array.from(g!)).toEqual(Array.from(c!));
    });
  }
  it('reverse of an int32 tensor and of a gradient (through tf.grad)', async () => {
    const f = () => tf.reverse(x('int32'), [1, 3]);
    const dx = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reverse(t, [2, 3]), tf.reshape(tf.range(0, n), [2, 3, 4, 5, 3]))))(x());
    const [c, cg] = [...(await runOn('cpu', f)), ...(await runOn('cpu', dx))];
    const [g, gg] = [...(await runOn('webgpu', f)), ...(await runOn('webgpu', dx))];
    expect(Array.from(g!)).toEqual(Array.from(c!));
    expect(Array.from(gg!)).toEqual(Array.from(cg!));
  });
  for (const pads of [[[0, 0], [1, 2], [0, 1], [2, 0], [0, 0]], [[1, 0], [0, 0], [0, 0], [0, 0], [0, 3]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]] as [number, number][][]) {
    it(`pad ${JSON.stringify(pads)} equals cpu`, async () => {
      const [c] = await runOn('cpu', () => tf.pad(x(), pads, 0.5));
      const [g] = await runOn('webgpu', () => tf.pad(x(), pads, 0.5));
      expect(Array.from(g!)).toEqual(Array.from(c!));
    });
  }
  it('leaks no tensors', async () => {
    await tf.setBackend('webgpu');
    const a = x();
    const before = tf.memory().numTensors;
    const r = tf.reverse(a, [1, 2, 3]);
    const p = tf.pad(a, [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]]);
    await Promise.all([r.data(), p.data()]);
    tf.dispose([r, p]);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
