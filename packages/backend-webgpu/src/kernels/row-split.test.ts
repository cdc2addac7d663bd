/**
 * tfjs-backend-webgpu's own kernels above the storage-binding limit: with the cap lowered to
 * 16 KiB (4096 float32 values), each op below runs in pieces and must equal the same op with
 * the default cap (one piece). Element-wise ops, Cast, concat and trailing-axis reductions
 * keep each value's order of operations: bit-identical. Reductions over leading axes add
 * partial sums per block of rows: within 1e-6 relative (float32 reassociation).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, runOn, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { setMaxBindingBytes } from './binding-split.js';
import { broadcastRows, largestDivisorAtMost } from './row-split.js';

const status = await webgpuForTests();

/** Odd sizes: 3 * 17 * 13 * 11 * 5 = 36465 values (~142 KiB), ~9 pieces at the 16 KiB cap. */
const BIG = [3, 17, 13, 11, 5];

const CASES: [string, () => tf.Tensor | tf.Tensor[], number][] = [
  ['unary ops (Exp, Sigmoid, Relu, LeakyRelu, Neg, Sqrt, Abs, Log, Step, Square)', () => {
    const x = seeded(BIG, 1);
    return [tf.exp(x), tf.sigmoid(x), tf.relu(x), tf.leakyRelu(x, 0.01), tf.neg(x), tf.sqrt(tf.abs(x)), tf.log(tf.add(tf.abs(x), 1)), tf.step(x), tf.square(x)];
  }, 0],
  ['Fill (tf.fill)', () => [tf.fill(BIG, 2.5), tf.fill([3, 17, 13, 11, 5], 7, 'int32')], 0],
  ['Cast float -> int -> float and bool', () => {
    const x = tf.mul(seeded(BIG, 2), 100);
    const i = tf.cast(x, 'int32');
    return [tf.cast(i, 'float32'), tf.cast(tf.greater(x, 0), 'float32')];
  }, 0],
  ['binary ops, same shape and broadcast [C], [1,1,1,1,C], [N,1,1,1,C], scalar', () => {
    const a = seeded(BIG, 3);
    const b = seeded(BIG, 4);
    const c = seeded([5], 5);
    const nc = seeded([1, 1, 1, 1, 5], 6);
    return [tf.add(a, b), tf.sub(a, c), tf.mul(a, tf.reshape(c, [1, 1, 1, 1, 5])), tf.div(a, tf.add(tf.abs(nc), 1)), tf.mul(a, 3), tf.maximum(a, b), tf.squaredDifference(a, b), tf.pow(tf.abs(a), 1.5)];
  }, 0],
  ['a row above the cap: [N,1,1,1,C] and [N,D,1,1,C] operands against samples of 12155 values (> 4096)', () => {
    const a = seeded(BIG, 16);
    return [tf.mul(a, seeded([3, 1, 1, 1, 5], 17)), tf.sub(a, seeded([3, 17, 1, 1, 5], 18)), tf.add(seeded([3, 1, 1, 1, 1], 19), a)];
  }, 0],
  ['Select (rank 5: flat), comparisons, AddN', () => {
    const a = seeded(BIG, 7);
    const b = seeded(BIG, 8);
    return [tf.where(tf.greater(a, b), a, b), tf.cast(tf.lessEqual(a, 0), 'float32'), tf.addN([a, b, a])];
  }, 0],
  ['Concat along the last axis', () => tf.concat([seeded(BIG, 9), seeded([3, 17, 13, 11, 2], 10)], 4), 0],
  ['Reverse (rank 4), Transpose, Slice, Pad over trailing axes', () => {
    const a = seeded(BIG, 15);
    // tfjs-backend-webgpu's Reverse and Pad handle rank <= 4 only (with or without a split).
    const a4 = tf.reshape(a, [51, 13, 11, 5]);
    return [tf.reverse(a4, [1, 2]), tf.reverse(a4, 3), tf.transpose(a, [0, 1, 3, 2, 4]), tf.slice(a, [0, 0, 1, 2, 1], [3, 17, 11, 7, 3]), tf.slice(a4, [0, 2], [51, 9]), tf.pad(a4, [[0, 0], [1, 2], [0, 1], [0, 0]])];
  }, 0],
  ['last-axis reductions and ArgMax', () => {
    const a = seeded(BIG, 11);
    return [tf.sum(a, -1), tf.mean(a, [3, 4]), tf.cast(tf.argMax(a, -1), 'float32')];
  }, 0],
  ['reductions over leading axes (bias gradient), Mean too', () => {
    const a = seeded(BIG, 12);
    return [tf.sum(a, [0, 1, 2, 3]), tf.max(a, [0, 1, 2, 3]), tf.mean(a, [0, 1, 2, 3]), tf.mean(a, [0, 1], true)];
  }, 1e-6],
  ['reductions over every axis, middle axes, and per sample with a sample above the cap', () => {
    const a = seeded(BIG, 20);
    return [tf.sum(a), tf.mean(a), tf.min(a), tf.mean(a, [1, 2, 3]), tf.sum(a, [1, 2, 3], true), tf.sum(a, [1, 2, 3, 4]), tf.mean(a, [1, 2, 3, 4]), tf.max(a, [1, 2, 3, 4])];
  }, 1e-6],
  ['SplitV (tf.split), Concat along the first axis, Slice cutting the first axis', () => {
    const a = seeded(BIG, 21);
    return [...tf.split(a, [2, 3], 4), ...tf.split(a, [7, 10], 1), tf.concat([a, seeded([2, 17, 13, 11, 5], 22)], 0), tf.slice(a, [1, 0, 0, 0, 0], [2, 17, 13, 11, 5]), tf.slice(a, [1, 2, 0, 3, 1], [2, 9, 13, 5, 3]), tf.slice(tf.reshape(a, [36465]), [5], [30000])];
  }, 0],
  ['BatchMatMul: batch pieces, an entry above the cap, shared B by rows', () => {
    const p = seeded([6, 40, 30], 23);
    const q = seeded([6, 30, 50], 24);
    const big = seeded([2, 80, 60], 25);
    const rows = seeded([3000, 8], 26);
    const w = seeded([8, 6], 27);
    return [tf.matMul(p, q), tf.matMul(p, seeded([6, 50, 30], 28), false, true), tf.matMul(seeded([6, 30, 40], 29), q, true, false), tf.matMul(big, seeded([2, 60, 50], 30)), tf.matMul(rows, w)];
  }, 0],
  ['BatchMatMul Aᵀ·B (a weight gradient) summed over pieces of the shared rows', () => tf.matMul(seeded([3000, 8], 33), seeded([3000, 6], 34), true, false), 1e-5],
  ['a whole gradient through broadcasting ops', () => {
    const x = seeded(BIG, 13);
    const bias = seeded([5], 14);
    return tf.grads((xx: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.sigmoid(tf.add(tf.mul(xx, xx), bb))))([x, bias]);
  }, 1e-6],
];

describe('broadcastRows', () => {
  it('splits over the leading axes every input either shares or broadcasts', () => {
    expect(broadcastRows([[2, 3, 4, 5], [5]], [2, 3, 4, 5])?.k).toBe(3);
    expect(broadcastRows([[2, 3, 4, 5], [2, 1, 1, 5]], [2, 3, 4, 5])?.k).toBe(1);
    expect(broadcastRows([[1, 3, 4, 5], [1, 1, 1, 5]], [1, 3, 4, 5])?.k).toBe(3);
    expect(broadcastRows([[2, 3], [2, 3]], [2, 3])?.k).toBe(2);
    expect(broadcastRows([[2, 3], [3, 1]], [2, 3])).toBeNull();
  });
});

describe('largestDivisorAtMost', () => {
  it('finds the largest divisor within the bound', () => {
    expect(largestDivisorAtMost(36465, 4096)).toBe(3315);
    expect(largestDivisorAtMost(97, 50)).toBe(1);
    expect(largestDivisorAtMost(64, 64)).toBe(64);
    expect(largestDivisorAtMost(1000, 3)).toBe(2);
  });
});

describe.skipIf(!status.available)('tfjs-backend-webgpu kernels split above the binding cap', () => {
  afterAll(async () => {
    setMaxBindingBytes(undefined);
    await tf.setBackend('cpu');
  });

  it('a kernel without a split refuses a binding above the cap with one line naming its program', async () => {
    await tf.setBackend('webgpu');
    // Rank 4 and already on the GPU (tfjs-backend-webgpu tiles rank 5 on the CPU).
    const a = tf.tidy(() => tf.add(tf.reshape(seeded(BIG, 32), [51, 13, 11, 5]), 0));
    setMaxBindingBytes(16384);
    try {
      // Tile has no split: it would bind the whole [102, 13, 11, 5] output.
      expect(() => tf.tile(a, [2, 1, 1, 1])).toThrow(/^WebGPU kernel TileProgram: binding a tensor \[.*\] of \d+ bytes exceeds the storage-binding limit of 16384 bytes \(lowered by VOXSEG_WEBGPU_MAX_BINDING_BYTES or setMaxBindingBytes\); this kernel has no split for that shape$/);
    } finally {
      setMaxBindingBytes(undefined);
      a.dispose();
    }
  });

  for (const [name, f, tol] of CASES) {
    it(`${name}: capped at 16 KiB equals uncapped${tol ? ` within ${tol}` : ', bit for bit'}, no leaks`, { timeout: 120_000 }, async () => {
      setMaxBindingBytes(undefined);
      const whole = await runOn('webgpu', f);
      setMaxBindingBytes(16384);
      const before = tf.memory().numTensors;
      const split = await runOn('webgpu', f);
      expect(tf.memory().numTensors).toBe(before);
      setMaxBindingBytes(undefined);
      expect(split.length).toBe(whole.length);
      split.forEach((s, i) => {
        if (tol === 0) expect(Array.from(s), `output ${i}`).toEqual(Array.from(whole[i]!));
        else expect(relError(s, whole[i]!), `output ${i}`).toBeLessThan(tol);
      });
    });
  }
});
