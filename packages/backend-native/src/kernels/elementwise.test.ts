import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, expectSameOnBoth, randn, status } from '../__tests__/compare.js';
import { broadcastPlan, reductionPlan } from './broadcast.js';

describe('broadcast and reduction plans', () => {
  it('coalesces channel broadcasting into [rows, C]', () => {
    expect(broadcastPlan([2, 4, 4, 4, 8], [8], [2, 4, 4, 4, 8])).toEqual({ dims: [128, 8], stridesA: [8, 1], stridesB: [0, 1] });
    expect(broadcastPlan([3, 5], [3, 5], [3, 5])).toEqual({ dims: [15], stridesA: [1], stridesB: [1] });
    expect(broadcastPlan([], [3, 5], [3, 5])).toEqual({ dims: [15], stridesA: [0], stridesB: [1] });
    expect(broadcastPlan([2, 1, 1, 1, 4], [2, 3, 3, 3, 4], [2, 3, 3, 3, 4])).toEqual({ dims: [2, 27, 4], stridesA: [4, 0, 1], stridesB: [108, 4, 1] });
  });
  it('finds [outer, reduced, inner] blocks and rejects split axes', () => {
    expect(reductionPlan([2, 4, 4, 4, 8], [1, 2, 3])).toEqual({ outer: 2, red: 64, inner: 8 });
    expect(reductionPlan([2, 4, 4, 4, 8], [0, 1, 2, 3])).toEqual({ outer: 1, red: 128, inner: 8 });
    expect(reductionPlan([2, 1, 4, 8], [0, 2])).toEqual({ outer: 1, red: 8, inner: 8 });
    expect(reductionPlan([2, 4, 8], [0, 2])).toBeNull();
  });
});

describe.skipIf(!status.available)('native element-wise and reduction kernels vs cpu', () => {
  const rng = new Rng('elementwise');
  const shapes: [number[], number[]][] = [
    [[2, 5, 4, 3, 7], [2, 5, 4, 3, 7]],
    [[2, 5, 4, 3, 7], [7]],
    [[2, 5, 4, 3, 7], []],
    [[1], [2, 3, 5, 1]],
    [[2, 1, 1, 1, 6], [2, 3, 5, 4, 6]],
    [[3, 1, 5], [1, 4, 1]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  const compares: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['greater', tf.greater], ['greaterEqual', tf.greaterEqual], ['less', tf.less], ['lessEqual', tf.lessEqual], ['equal', tf.equal],
  ];

  it.each(ops)('%s forward and gradients with broadcasting', (name, op) => {
    for (const [sa, sb] of shapes) {
      // tfjs's own Maximum/Minimum/SquaredDifference gradients do not reduce broadcast
      // dimensions (they fail on cpu too): their broadcast forward is tested below.
      if (['maximum', 'minimum', 'squaredDifference'].includes(name) && sa.join() !== sb.join()) continue;
      const a = randn(rng, sa);
      // Keep divisors away from zero so the division's relative error is meaningful.
      const b = tf.tidy(() => tf.add(randn(rng, sb), tf.mul(tf.sign(randn(rng, sb)), 2)));
      expectSameOnBoth(() => {
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(op(x, y), op(x, y))))([a, b]);
        return [op(a, b), ga!, gb!];
      });
      tf.dispose([a, b]);
    }
  });

  it.each(compares)('%s gives the same booleans', (_, op) => {
    for (const [sa, sb] of shapes) {
      // Rounded values make equality and ties actually occur.
      const a = tf.tidy(() => tf.round(randn(rng, sa, 2)));
      const b = tf.tidy(() => tf.round(randn(rng, sb, 2)));
      expectSameOnBoth(() => tf.cast(op(a, b), 'float32'), 0);
      tf.dispose([a, b]);
    }
  });

  it('leakyRelu forward and gradient (the Greater/Multiply/Select path), odd sizes', () => {
    const x = randn(rng, [2, 5, 3, 7, 3]);
    const dy = randn(rng, [2, 5, 3, 7, 3]);
    expectSameOnBoth(() => [tf.leakyRelu(x, 0.01), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(t, 0.01), dy)))(x)], 1e-6);
    tf.dispose([x, dy]);
  });

  it('leakyRelu gradient runs as one native kernel on native (not Greater/Multiply/Select)', async () => {
    tf.setBackend('native');
    const x = randn(rng, [2, 3, 4, 5]);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.leakyRelu(t, 0.2)))(x));
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('VoxsegLeakyReluGrad');
    expect(names).not.toContain('Select');
    info.result && tf.dispose(info.result as tf.Tensor);
    x.dispose();
  });

  it('unary maths (neg, relu, abs, exp, log1p, sigmoid, square, sqrt, rsqrt, log) and gradients', () => {
    const x = randn(rng, [2, 3, 5, 7]);
    const pos = tf.tidy(() => tf.add(tf.abs(randn(rng, [2, 3, 5, 7])), 0.1));
    expectSameOnBoth(() => [tf.neg(x), tf.relu(x), tf.abs(x), tf.exp(x), tf.log1p(pos), tf.sigmoid(x), tf.square(x), tf.sqrt(pos), tf.rsqrt(pos), tf.log(pos)], 1e-5);
    expectSameOnBoth(() => tf.grads((a: tf.Tensor, p: tf.Tensor) => tf.sum(tf.add(tf.mul(tf.sigmoid(a), tf.exp(a)), tf.log1p(p))))([x, pos]), 1e-5);
    expectSameOnBoth(() => [tf.relu(tf.tensor1d([NaN, -1, 0, 2])), tf.exp(tf.tensor1d([-Infinity, 0, 100]))], 1e-6);
    tf.dispose([x, pos]);
  });

  it('step (with NaN and zero) matches cpu', () => {
    const x = tf.tensor1d([-2, -0, 0, 1e-30, 3, NaN, -Infinity, Infinity]);
    const big = randn(rng, [3, 5, 7, 2]);
    expectSameOnBoth(() => [tf.step(x, 0.01), tf.step(big, 0.3), tf.step(big)], 0);
    tf.dispose([x, big]);
  });

  it('where (Select) with broadcast condition', () => {
    const a = randn(rng, [3, 4, 5]);
    const b = randn(rng, [3, 4, 5]);
    const c = tf.tidy(() => tf.greater(randn(rng, [4, 5]), 0));
    expectSameOnBoth(() => tf.where(c, a, b), 0);
    tf.dispose([a, b, c]);
  });

  it('sum and mean over the axes a channels-last network reduces, with keepDims, and their gradients', () => {
    const x = randn(rng, [2, 5, 3, 7, 6]);
    const axesList: (number | number[])[] = [[1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3, 4], 4, [2, 3], [0, 2]];
    for (const axes of axesList) {
      for (const keepDims of [false, true]) {
        expectSameOnBoth(() => [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims), tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.mean(t, axes, keepDims))))(x)]);
      }
    }
    tf.dispose(x);
  });

  it('moments over space match cpu (what norm layers built from ops use)', () => {
    const x = randn(rng, [2, 6, 5, 4, 9], 3);
    expectSameOnBoth(() => {
      const m = tf.moments(x, [1, 2, 3], true);
      return [m.mean, m.variance];
    });
    tf.dispose(x);
  });

  it('maximum, minimum, squaredDifference with broadcasting, forward', () => {
    for (const [sa, sb] of shapes) {
      const a = randn(rng, sa);
      const b = randn(rng, sb);
      expectSameOnBoth(() => [tf.squaredDifference(a, b), tf.maximum(a, b), tf.minimum(a, b)]);
      tf.dispose([a, b]);
    }
  });

  it('float32 tensors backed by int or bool arrays (cpu Cast relabels data) are converted', () => {
    expectSameOnBoth(() => tf.mul(tf.cast(tf.greater(tf.tensor1d([1, -2, 3]), 0), 'float32'), tf.tensor1d([0.5, 2, 4])), 0);
    expectSameOnBoth(() => tf.add(tf.cast(tf.tensor1d([1, 2, 3], 'int32'), 'float32'), 0.25), 0);
  });

  it('int32 and bool inputs keep the cpu kernels', () => {
    expectSameOnBoth(() => tf.cast(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')), 'float32'), 0);
    expectSameOnBoth(() => tf.cast(tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), 0), 'float32'), 0);
  });

  it('zero-size tensors do not crash', () => {
    tf.setBackend('native');
    const z = tf.zeros([0, 3, 4]);
    const outs = [tf.add(z, tf.ones([4])), tf.leakyRelu(z), tf.sum(z, [0, 1]), tf.greater(z, 0)];
    expect(outs.map((t) => t.shape)).toEqual([[0, 3, 4], [0, 3, 4], [4], [0, 3, 4]]);
    expect(Array.from(outs[2]!.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([z, ...outs]);
  });

  it('leaks no tensors through a leakyRelu + broadcast add + mean gradient', () => {
    const x = randn(rng, [2, 3, 3, 3, 4]);
    const b = randn(rng, [4]);
    expectNoLeak(() => {
      const g = tf.grads((t: tf.Tensor, u: tf.Tensor) => tf.mean(tf.leakyRelu(tf.add(t, u), 0.01)))([x, b]);
      tf.dispose(g);
    });
    tf.dispose([x, b]);
  });
});
