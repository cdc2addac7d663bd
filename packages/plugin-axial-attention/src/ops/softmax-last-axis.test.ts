import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@voxseg/core';
import { softmaxLastAxis } from './softmax-last-axis.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('softmaxLastAxis', () => {
  it('equals the textbook softmax, also for large logits, and its gradient matches finite differences', () => {
    const rng = new Rng(3);
    const shape = [2, 3, 5];
    const data = Float32Array.from({ length: 30 }, () => rng.normal(0, 3));
    data[0] = 120; // exp(120) overflows float32 without the max shift
    const x = tf.tensor(data, shape);
    const p = softmaxLastAxis(x).dataSync();
    for (let row = 0; row < 6; row++) {
      const v = Array.from(data.subarray(row * 5, row * 5 + 5));
      const m = Math.max(...v);
      const z = v.reduce((a, b) => a + Math.exp(b - m), 0);
      v.forEach((b, j) => expect(p[row * 5 + j]).toBeCloseTo(Math.exp(b - m) / z, 6));
    }
    const r = tf.tensor(Float32Array.from({ length: 30 }, () => rng.normal()), shape);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(softmaxLastAxis(t), r)) as tf.Scalar;
    const small = tf.tensor(Float32Array.from({ length: 30 }, () => rng.normal()), shape);
    const g = tf.grad(f)(small).dataSync();
    const base = small.dataSync();
    for (let i = 0; i < 30; i++) {
      const at = (d: number) => {
        const v = base.slice();
        v[i]! += d;
        return tf.tidy(() => f(tf.tensor(v, shape)).arraySync() as number);
      };
      expect(Math.abs((at(1e-2) - at(-1e-2)) / 2e-2 - g[i]!)).toBeLessThan(2e-3);
    }
    // Same as tfjs's own softmax and its gradient.
    expect(tf.max(tf.abs(tf.sub(softmaxLastAxis(small), tf.softmax(small)))).arraySync()).toBeLessThan(1e-6);
    const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), r)) as tf.Scalar)(small).dataSync();
    for (let i = 0; i < 30; i++) expect(g[i]).toBeCloseTo(gRef[i]!, 5);
  });

  it('leaks no tensors', () => {
    const x = tf.randomNormal([4, 7], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    tf.dispose(softmaxLastAxis(x));
    const g = tf.grad((t: tf.Tensor) => tf.sum(softmaxLastAxis(t)) as tf.Scalar)(x);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
