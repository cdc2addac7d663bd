import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, expectSameOnBoth, randn, status } from '../__tests__/compare.js';
import { nativeBatchNorm, nativeGroupNorm, nativeInstanceNorm, nativeNorm } from './norm.js';

// On `cpu` nativeNorm runs as plain tfjs ops (moments, sub, mul, rsqrt, autograd): an
// implementation independent of the fused C++ kernels it is compared with.
describe.skipIf(!status.available)('fused native normalisation vs the same maths in tfjs ops on cpu', () => {
  const rng = new Rng('norm');
  const cases: { name: string; shape: number[]; groups: number; acrossBatch: boolean }[] = [
    { name: 'GroupNorm 3 groups, odd sizes, batch 2', shape: [2, 5, 3, 7, 6], groups: 3, acrossBatch: false },
    { name: 'InstanceNorm, 5 channels', shape: [2, 3, 4, 5, 5], groups: 5, acrossBatch: false },
    { name: 'InstanceNorm, 1 channel', shape: [3, 4, 3, 5, 1], groups: 1, acrossBatch: false },
    { name: 'BatchNorm (training statistics), 7 channels', shape: [2, 3, 5, 4, 7], groups: 7, acrossBatch: true },
    { name: 'GroupNorm 32 groups of 2 (the GN variants at 64 channels)', shape: [1, 3, 4, 3, 64], groups: 32, acrossBatch: false },
    { name: 'one group over space and channels, rank 3', shape: [2, 9, 4], groups: 1, acrossBatch: false },
  ];
  for (const c of cases) {
    it(`${c.name}: y, statistics and gradients of x, gamma, beta`, () => {
      const ch = c.shape[c.shape.length - 1]!;
      // An offset and scale so the centring actually matters.
      const x = tf.tidy(() => tf.add(randn(rng, c.shape, 3), 1.5));
      const gamma = randn(rng, [ch]);
      const beta = randn(rng, [ch]);
      const dy = randn(rng, c.shape);
      expectSameOnBoth(() => {
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(nativeNorm(a, g, b, { groups: c.groups, acrossBatch: c.acrossBatch }).y, dy));
        const grads = tf.grads(f)([x, gamma, beta]);
        const r = nativeNorm(x, gamma, beta, { groups: c.groups, acrossBatch: c.acrossBatch });
        return [r.y, r.mean, r.variance, ...grads];
      });
      tf.dispose([x, gamma, beta, dy]);
    });
  }

  for (const [name, groups, acrossBatch] of [['GroupNorm', 2, false], ['BatchNorm', 5, true]] as const) {
    it(`${name} with LeakyReLU fused (negativeSlope): y and gradients`, () => {
      const shape = [2, 3, 5, 4, groups === 2 ? 6 : 5];
      const ch = shape[4]!;
      const x = tf.tidy(() => tf.add(randn(rng, shape, 2), 0.3));
      const gamma = randn(rng, [ch]);
      const beta = randn(rng, [ch]);
      const dy = randn(rng, shape);
      const opts = { groups, acrossBatch, negativeSlope: 0.01 };
      expectSameOnBoth(() => {
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(nativeNorm(a, g, b, opts).y, dy));
        return [nativeNorm(x, gamma, beta, opts).y, ...tf.grads(f)([x, gamma, beta])];
      });
      tf.dispose([x, gamma, beta, dy]);
    });
  }

  it('the fused LeakyReLU is exactly the unfused one (slope * v below zero, v above), bit for bit', () => {
    // The training layers used to run the norm and then tfjs' LeakyReLU; fusing must not
    // change a single bit of y, or the demo's deterministic figures move. A slope applied as
    // v * (1 + (slope - 1)) is 0.0099999905 for 0.01 in float32 and fails here.
    tf.setBackend('native');
    const x = tf.tidy(() => tf.add(randn(rng, [2, 4, 3, 5, 6], 2), 0.3));
    const gamma = randn(rng, [6]);
    const beta = randn(rng, [6]);
    const fused = nativeNorm(x, gamma, beta, { groups: 6, acrossBatch: false, negativeSlope: 0.01 });
    const plain = nativeNorm(x, gamma, beta, { groups: 6, acrossBatch: false });
    const unfused = tf.leakyRelu(plain.y, 0.01);
    const a = fused.y.dataSync();
    const b = unfused.dataSync();
    let negatives = 0;
    let differing = 0;
    for (let i = 0; i < a.length; i++) {
      if (b[i]! < 0) negatives++;
      if (a[i] !== b[i]) differing++;
    }
    expect(negatives).toBeGreaterThan(50);
    expect(differing).toBe(0);
    tf.dispose([x, gamma, beta, fused.y, fused.mean, fused.variance, plain.y, plain.mean, plain.variance, unfused]);
  });

  it('the backward kernel asks for y when an activation is fused', () => {
    tf.setBackend('native');
    const x = tf.ones([1, 2, 2, 2, 2]);
    const s = tf.ones([1, 2]);
    const g = tf.ones([2]);
    expect(() => tf.engine().runKernel('VoxsegNormBackward', { dy: x, x, mean: s, variance: s, gamma: g }, { groups: 2, acrossBatch: false, epsilon: 1e-5, negativeSlope: 0.01 })).toThrow(
      /negativeSlope 0.01 needs the forward output as input y/,
    );
    tf.dispose([x, s, g]);
  });

  it('the named wrappers pick the right statistics', () => {
    const x = randn(rng, [2, 3, 3, 3, 8]);
    const g = tf.ones([8]);
    const b = tf.zeros([8]);
    expectSameOnBoth(() => {
      const bn = nativeBatchNorm(x, g, b);
      return [nativeGroupNorm(x, g, b, 4), nativeInstanceNorm(x, g, b), bn.y, bn.mean];
    });
    tf.setBackend('native');
    const bn = nativeBatchNorm(x, g, b);
    expect(bn.mean.shape).toEqual([8]);
    tf.dispose([x, g, b, bn.y, bn.mean, bn.variance]);
  });

  it('bad groups and parameter sizes are errors that name the shapes', () => {
    tf.setBackend('native');
    const x = tf.zeros([1, 2, 2, 2, 6]);
    expect(() => nativeNorm(x, tf.ones([6]), tf.zeros([6]), { groups: 4 })).toThrow(/6 channels of x \[1,2,2,2,6\] are not divisible into 4 groups/);
    expect(() => nativeNorm(x, tf.ones([5]), tf.zeros([6]), { groups: 3 })).toThrow(/gamma \[5\] and beta \[6\] must have 6 values/);
    tf.dispose(x);
  });

  it('zero-size batches do not crash', () => {
    tf.setBackend('native');
    const x = tf.zeros([0, 3, 3, 3, 4]);
    const y = nativeGroupNorm(x, tf.ones([4]), tf.zeros([4]), 2);
    expect(y.shape).toEqual([0, 3, 3, 3, 4]);
    tf.dispose([x, y]);
  });

  it('leaks no tensors through forward and backward', () => {
    const x = randn(rng, [2, 3, 3, 3, 4]);
    const g = tf.ones([4]);
    const b = tf.zeros([4]);
    expectNoLeak(() => {
      const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.mean(nativeGroupNorm(a, gg, bb, 2)))([x, g, b]);
      tf.dispose(grads);
    });
    tf.dispose([x, g, b]);
  });
});
