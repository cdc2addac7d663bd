import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, expectSameOnBoth, randn, status } from '../__tests__/compare.js';

describe.skipIf(!status.available)('native Slice, SplitV and Concat vs cpu', () => {
  const rng = new Rng('slice');

  it('slices boxes along every axis, odd sizes, batch 2', () => {
    const x = randn(rng, [2, 5, 3, 7, 6]);
    const boxes: [number[], number[]][] = [
      [[0, 0, 0, 0, 2], [2, 5, 3, 7, 3]], // channels (the concat gradient of a U-Net)
      [[1, 1, 0, 2, 0], [1, 3, 3, 4, 6]],
      [[0, 2, 1, 0, 1], [-1, 2, 1, -1, 4]],
      [[0, 0, 0, 0, 0], [2, 5, 3, 7, 6]],
      [[1, 0, 0, 0, 0], [1, 5, 3, 7, 6]],
    ];
    for (const [b, s] of boxes) expectSameOnBoth(() => tf.slice(x, b, s), 0);
    tf.dispose(x);
  });

  it('split and concat along the channels and a spatial axis, with gradients', () => {
    const a = randn(rng, [2, 3, 4, 5, 3]);
    const b = randn(rng, [2, 3, 4, 5, 7]);
    const c = randn(rng, [2, 3, 2, 5, 3]);
    const dy = randn(rng, [2, 3, 4, 5, 10]);
    expectSameOnBoth(() => {
      const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], -1), dy));
      const [ga, gb] = tf.grads(f)([a, b]);
      return [tf.concat([a, b], -1), tf.concat([a, c], 2), ...tf.split(b, [2, 4, 1], -1), ...tf.split(a, 3, 4), ga!, gb!];
    }, 0);
    tf.dispose([a, b, c, dy]);
  });

  it('zero-size pieces and non-float inputs', () => {
    expectSameOnBoth(() => tf.concat([tf.zeros([2, 0, 3]), tf.ones([2, 2, 3])], 1), 0);
    expectSameOnBoth(() => tf.cast(tf.concat([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3], 'int32')]), 'float32'), 0);
    expectSameOnBoth(() => tf.slice(tf.ones([3, 4]), [1, 0], [0, 4]), 0);
  });

  it('out-of-range boxes are errors, and nothing leaks', () => {
    tf.setBackend('native');
    const x = tf.ones([2, 3]);
    expect(() => tf.slice(x, [1, 0], [2, 3])).toThrow();
    expectNoLeak(() => {
      const parts = tf.split(x, 3, 1);
      const y = tf.concat(parts, 1);
      tf.dispose([...parts, y]);
    });
    x.dispose();
  });
});
