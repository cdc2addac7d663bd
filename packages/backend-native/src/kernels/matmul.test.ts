import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, expectSameOnBoth, randn, status } from '../__tests__/compare.js';

describe.skipIf(!status.available)('native BatchMatMul and _FusedMatMul vs cpu', () => {
  const rng = new Rng('matmul');

  it('batched products with every transpose combination, odd sizes, and gradients', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = randn(rng, ta ? [3, 2, 7, 5] : [3, 2, 5, 7]);
      const b = randn(rng, tb ? [3, 2, 9, 7] : [3, 2, 7, 9]);
      expectSameOnBoth(() => {
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([a, b]);
        return [tf.matMul(a, b, ta, tb), ga!, gb!];
      });
      tf.dispose([a, b]);
    }
  });

  it('broadcasts a batch of 1 and falls back to cpu for other broadcasts', () => {
    const a = randn(rng, [4, 3, 6]);
    const b = randn(rng, [1, 6, 2]);
    expectSameOnBoth(() => tf.matMul(a, b));
    const c = randn(rng, [2, 1, 3, 6]);
    const d = randn(rng, [1, 5, 6, 2]);
    expectSameOnBoth(() => tf.matMul(c, d));
    tf.dispose([a, b, c, d]);
  });

  it('fused matMul with bias and each activation', () => {
    const a = randn(rng, [2, 5, 6]);
    const b = randn(rng, [2, 6, 3]);
    const bias = randn(rng, [3]);
    const alpha = randn(rng, [3]);
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
      expectSameOnBoth(() => tf.fused.matMul({ a, b, bias, activation, preluActivationWeights: activation === 'prelu' ? alpha : undefined, leakyreluAlpha: 0.1 }));
    }
    tf.dispose([a, b, bias, alpha]);
  });

  it('zero-size products give zeros of the right shape, without leaks', () => {
    expectNoLeak(() => {
      const ins = [tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4]), tf.zeros([0, 3, 2]), tf.zeros([0, 2, 4])];
      const z = tf.matMul(ins[0]!, ins[1]!);
      expect(z.shape).toEqual([2, 3, 4]);
      expect(Array.from(z.dataSync()).every((v) => v === 0)).toBe(true);
      const e = tf.matMul(ins[2]!, ins[3]!);
      expect(e.shape).toEqual([0, 3, 4]);
      tf.dispose([z, e, ...ins]);
    });
  });
});
