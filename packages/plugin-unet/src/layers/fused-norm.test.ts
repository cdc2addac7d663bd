import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradients
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedNorm } from './fused-norm.js';
import { setTestBackend } from '@voxseg/core';

// Golden gradients: PyTorch 1.13 autograd through BatchNorm3d (train) / GroupNorm /
// InstanceNorm3d, loss = sum(y * w); scripts/golden_norms.py.
const golden = JSON.parse(readFileSync(new URL('./golden/norms.json', import.meta.url), 'utf8'));
const G = golden.gradients as Record<string, { dx: number[]; dgamma: number[]; dbeta: number[] }> & { shape: number[]; weightPattern: [number, number] };

function pattern(shape: number[], a = 0.37, b = 0.11): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => 2 * Math.sin(a * i + b) + 0.3 * Math.cos(0.05 * i)), shape);
}

function maxDiff(a: tf.Tensor, e: number[]): number {
  const v = a.dataSync();
  let worst = 0;
  for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - e[i]!));
  return worst;
}

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

describe('fusedNorm (hand-written backward)', () => {
  const c = 8;
  const cases = { batch: { groups: c, acrossBatch: true }, group4: { groups: 4, acrossBatch: false }, instance: { groups: c, acrossBatch: false } } as const;
  for (const [key, opts] of Object.entries(cases)) {
    it(`${key}: dx, dgamma, dbeta equal torch autograd`, () => {
      const x = pattern(G.shape);
      const w = pattern(G.shape, ...G.weightPattern);
      const gamma = tf.tensor1d(Array.from({ length: c }, (_, i) => 1 + 0.1 * i));
      const beta = tf.tensor1d(Array.from({ length: c }, (_, i) => 0.05 * i - 0.1));
      const loss = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.tidy(() => {
          const r = fusedNorm(xx, g, b, { ...opts, epsilon: 1e-5 });
          return tf.sum(tf.mul(r.y, w)) as tf.Scalar;
        });
      const before = tf.memory().numTensors;
      const [dx, dg, db] = tf.grads(loss)([x, gamma, beta]);
      expect(tf.memory().numTensors).toBe(before + 3);
      expect(maxDiff(dx!, G[key]!.dx)).toBeLessThan(1e-4);
      expect(maxDiff(dg!, G[key]!.dgamma)).toBeLessThan(1e-3);
      expect(maxDiff(db!, G[key]!.dbeta)).toBeLessThan(1e-4);
      tf.dispose([x, w, gamma, beta, dx!, dg!, db!]);
    });
  }

  it('returns the batch statistics and leaks nothing outside a tidy', () => {
    const x = pattern([2, 2, 2, 2, 4]);
    const [g, b] = [tf.ones([4]), tf.zeros([4])];
    const before = tf.memory().numTensors;
    const r = fusedNorm(x, g, b, { groups: 4, acrossBatch: true, epsilon: 1e-5 });
    expect(r.mean.shape).toEqual([4]);
    const m = tf.moments(x, [0, 1, 2, 3]);
    expect(maxDiff(r.mean, Array.from(m.mean.dataSync()))).toBeLessThan(1e-6);
    expect(maxDiff(r.variance, Array.from(m.variance.dataSync()))).toBeLessThan(1e-5);
    tf.dispose([m.mean, m.variance]);
    tf.dispose([r.y, r.mean, r.variance]);
    expect(tf.memory().numTensors).toBe(before);
    const r2 = fusedNorm(x, g, b, { groups: 2, acrossBatch: false, epsilon: 1e-5 });
    expect(r2.mean.shape).toEqual([2, 2]);
    tf.dispose([r2.y, r2.mean, r2.variance, x, g, b]);
  });
});
