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
import { broadcastRows } from './row-split.js';

const status = await webgpuForTests();

/** Odd sizes: 3 * 17 * 13 * 11 * 5 = 36465 values (~142 KiB), ~9 pieces at the 16 KiB cap. */
const BIG = [3, 17, 13, 11, 5];

const CASES: [string, () => tf.Tensor | tf.Tensor[], number][] = [
  ['unary ops (Exp, Sigmoid, Relu, LeakyRelu, Neg, Sqrt, Abs, Log, Step, Square)', () => {
    const x = seeded(BIG, 1);
    return [tf.exp(x), tf.sigmoid(x), tf.relu(x), tf.leakyRelu(x, 0.01), tf.neg(x), tf.sqrt(tf.abs(x)), tf.log(tf.add(tf.abs(x), 1)), tf.step(x), tf.square(x)];
  }, 0],
  ['Cast float -> int -> float and bool', () => {
    const x = tf.mul(seeded(BIG, 2), 100);
    const i = tf.cast(x, 'int32');
    return [tf.cast(i, 'float32'), tf.cast(tf.greater(x, 0), 'float32')];
  }, 0],
  ['binary ops, same shape and broadcast [C], [1,1,1,1,C], [N,1,1,1,C], scalar', () => {
    const a = seeded(BIG, 3);
    const b = seeded(BIG, 4);
    const c = seeded([5], 5);
    // One sample of [3, ...] is 12155 values (> 4096): an [N,1,1,1,C] operand cannot split by rows here.
    const nc = seeded([1, 1, 1, 1, 5], 6);
    return [tf.add(a, b), tf.sub(a, c), tf.mul(a, tf.reshape(c, [1, 1, 1, 1, 5])), tf.div(a, tf.add(tf.abs(nc), 1)), tf.mul(a, 3), tf.maximum(a, b), tf.squaredDifference(a, b), tf.pow(tf.abs(a), 1.5)];
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
  ['reductions over leading axes (bias gradient)', () => {
    const a = seeded(BIG, 12);
    return [tf.sum(a, [0, 1, 2, 3]), tf.max(a, [0, 1, 2, 3])];
  }, 1e-6],
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

describe.skipIf(!status.available)('tfjs-backend-webgpu kernels split above the binding cap', () => {
  afterAll(async () => {
    setMaxBindingBytes(undefined);
    await tf.setBackend('cpu');
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
