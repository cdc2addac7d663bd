import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuForTests } from '../__tests__/webgpu-test-env.js';

const status = await webgpuForTests();

interface Result {
  shape: number[];
  dtype: tf.DataType;
  values: number[];
}

/** Run `f` on `backend` in a tidy, read its output asynchronously, dispose it. */
async function on(backend: string, f: () => tf.Tensor): Promise<Result> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const r = { shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) };
  t.dispose();
  return r;
}

/** Deterministic integers in [lo, hi] (an LCG), identical on every backend. */
function ints(shape: number[], lo: number, hi: number, seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = lo + (s % (hi - lo + 1));
  }
  return tf.tensor(v, shape, 'int32');
}

type Op = (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;
const OPS: Record<string, Op> = {
  sum: (x, a, k) => tf.sum(x, a, k),
  max: (x, a, k) => tf.max(x, a, k),
  min: (x, a, k) => tf.min(x, a, k),
  mean: (x, a, k) => tf.mean(x, a, k),
  // Products of ±1 only: exact in the f32 the webgpu shader accumulates in, for any size.
  prod: (x, a, k) => tf.prod(tf.sub(tf.mul(tf.cast(tf.greater(x, 0), 'int32'), 2), 1), a, k),
  all: (x, a, k) => tf.all(tf.greater(x, 0), a, k),
  any: (x, a, k) => tf.any(tf.greater(x, 20), a, k),
  argMax: (x, a) => tf.argMax(x, a[0]),
  argMin: (x, a) => tf.argMin(x, a[0]),
};

// Odd shapes of every rank up to 5, with axes that need tfjs's internal transpose (not the
// innermost ones), the innermost ones (no transpose: tfjs's kernel unchanged), and negatives.
const CASES: [number[], number[][]][] = [
  [[7], [[0]]],
  [[5, 3], [[0], [1], [0, 1]]],
  [[3, 4, 5], [[0], [1], [0, 2], [-1]]],
  [[2, 3, 4, 5], [[1, 2], [0, 3], [2]]],
  [[3, 5, 7, 4, 3], [[0], [1], [2], [3], [4], [1, 2, 3], [0, 1, 2, 3], [0, 4], [0, 1, 2, 3, 4]]],
];

describe.skipIf(!status.available)('webgpu reductions over int32 and bool buffers', () => {
  let backendIds = 0;
  beforeAll(async () => {
    await tf.setBackend('webgpu');
    backendIds = tf.backend().numDataIds();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sum, max, min, mean, prod, all, any, argMax, argMin of int32 on every axis set equal cpu', async () => {
    const before = tf.memory().numTensors;
    for (const [shape, axesList] of CASES) {
      for (const axes of axesList) {
        for (const [name, op] of Object.entries(OPS)) {
          for (const keepDims of name.startsWith('arg') ? [false] : [false, true]) {
            if (name.startsWith('arg') && axes.length > 1) continue;
            const f = () => op(ints(shape, -50, 50, shape.length * 100 + axes.length), axes, keepDims);
            const cpu = await on('cpu', f);
            const gpu = await on('webgpu', f);
            const what = `${name}(${shape}, axes ${axes}, keepDims ${keepDims})`;
            expect(gpu.shape, what).toEqual(cpu.shape);
            expect(gpu.dtype, what).toBe(cpu.dtype);
            if (name === 'mean') for (let i = 0; i < cpu.values.length; i++) expect(gpu.values[i], what).toBeCloseTo(cpu.values[i]!, 4);
            else expect(gpu.values, what).toEqual(cpu.values);
          }
        }
      }
    }
    await tf.setBackend('webgpu');
    expect(tf.memory().numTensors).toBe(before);
    // Nothing the wrapper made inside a kernel (the transposed copy, the un-reshaped result) stays.
    expect(tf.backend().numDataIds()).toBe(backendIds);
  });

  it('reduces bool tensors and float32 tensors that still hold an int32 buffer (cast relabels)', async () => {
    const shape = [2, 5, 3, 4, 3];
    const fs: [string, () => tf.Tensor][] = [
      ['sum of bool over [1,2,3]', () => tf.sum(tf.greater(ints(shape, 0, 3, 7), 1), [1, 2, 3])],
      ['all of bool over [0,2]', () => tf.all(tf.greater(ints(shape, 0, 9, 8), 0), [0, 2], true)],
      ['sum of cast float32 over [1,2,3]', () => tf.sum(tf.cast(ints(shape, -9, 9, 9), 'float32'), [1, 2, 3])],
      ['max of cast float32 over [0]', () => tf.max(tf.cast(ints(shape, -9, 9, 10), 'float32'), 0)],
      ['mean of one-hot labels over [1,2,3] (the validation Dice)', () => tf.mean(tf.reshape(tf.oneHot(tf.reshape(ints(shape, 0, 3, 11), [-1]), 4), [...shape, 4]), [1, 2, 3])],
    ];
    const before = tf.memory().numTensors;
    for (const [what, f] of fs) {
      const cpu = await on('cpu', f);
      const gpu = await on('webgpu', f);
      expect(gpu.shape, what).toEqual(cpu.shape);
      expect(gpu.dtype, what).toBe(cpu.dtype);
      for (let i = 0; i < cpu.values.length; i++) expect(gpu.values[i], what).toBeCloseTo(cpu.values[i]!, 5);
    }
    await tf.setBackend('webgpu');
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(backendIds);
  });
});
