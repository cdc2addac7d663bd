import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, setTestBackend } from '@voxseg/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attendHead } from './attend-head.js';
import { softmaxLastAxis } from './softmax-last-axis.js';

beforeAll(async () => {
  await setTestBackend();
});

/** Bytes alive when the gradient reaches the probe (placed before the head: it runs last). */
let bytesAtProbe = 0;
const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => {
    bytesAtProbe = tf.memory().numBytes;
    return tf.clone(dy);
  },
})) as (x: tf.Tensor) => tf.Tensor;

describe('attendHead', () => {
  // 6 sequences of length 24, head width 4: the [6, 24, 24] scores dwarf q, k and v.
  const rng = new Rng(11);
  const make = (scale: number) => tf.tensor(Float32Array.from({ length: 6 * 24 * 4 }, () => rng.normal(0, scale)), [6, 24, 4]);
  const q = make(1.5);
  const k = make(1.5);
  const v = make(1);
  const r = make(1);

  const run = (head: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) => {
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(head(probe(a), b, c), r)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(f)([q, k, v]);
    const out = { loss: value.dataSync()[0]!, grads: grads.map((g) => Array.from(g.dataSync())), bytes: bytesAtProbe };
    tf.dispose([value, ...grads]);
    return out;
  };

  it('gives the values and gradients of autodiff through softmax(q k^T) v within 1e-5, without keeping the scores, no leak', () => {
    // Reference: the plain expression, whose tape keeps the softmaxed scores.
    const plain = run((a, b, c) => tf.matMul(softmaxLastAxis(tf.matMul(a, b, false, true)), c));
    const before = tf.memory().numTensors;
    const got = run(attendHead);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(got.loss - plain.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(plain.loss));
    got.grads.forEach((g, i) => {
      const ref = plain.grads[i]!;
      const scale = Math.max(...ref.map(Math.abs));
      expect(Math.max(...g.map((x, j) => Math.abs(x - ref[j]!))) / scale).toBeLessThanOrEqual(1e-5);
    });
    // By then the plain tape still holds the 6x24x24 probabilities (and their gradients).
    expect(got.bytes).toBeLessThan(plain.bytes - 6 * 24 * 24 * 4);
  });
});
