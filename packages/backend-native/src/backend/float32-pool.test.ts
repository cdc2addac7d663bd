import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { status } from '../__tests__/compare.js';
import { Float32Pool } from './float32-pool.js';

describe('Float32Pool', () => {
  it('reuses an array only after its one tensor is disposed', () => {
    const pool = new Float32Pool(4, 1 << 20);
    const a = pool.alloc(8);
    pool.onWrite(a);
    expect(pool.alloc(8)).not.toBe(a); // still live
    pool.onDispose(a);
    expect(pool.pooledBytes).toBe(32);
    expect(pool.alloc(8)).toBe(a);
    expect(pool.pooledBytes).toBe(0);
  });

  it('never reuses arrays that were read, aliased, not its own, small, or over the cap', () => {
    const pool = new Float32Pool(4, 40);
    const read = pool.alloc(8);
    pool.onWrite(read);
    pool.onRead(read);
    pool.onDispose(read);
    const aliased = pool.alloc(8);
    pool.onWrite(aliased);
    pool.onWrite(aliased.subarray(2, 6)); // a view registered as another tensor
    pool.onDispose(aliased);
    const foreign = new Float32Array(8);
    pool.onWrite(foreign);
    pool.onDispose(foreign);
    const small = pool.alloc(2);
    pool.onWrite(small);
    pool.onDispose(small);
    expect(pool.pooledBytes).toBe(0);
    const x = pool.alloc(8);
    const y = pool.alloc(8);
    pool.onWrite(x);
    pool.onWrite(y);
    pool.onDispose(x);
    pool.onDispose(y); // 64 bytes > cap 40: only x is kept
    expect(pool.pooledBytes).toBe(32);
  });
});

describe.skipIf(!status.available)('native backend output recycling', () => {
  const big = [1, 64, 64, 64, 1]; // 262144 floats: pooled

  it('data handed out by dataSync survives later kernels', () => {
    tf.setBackend('native');
    const x = tf.fill(big, 2);
    const y = tf.add(x, 1);
    const data = y.dataSync();
    y.dispose();
    const z = tf.add(x, 5); // same length: would reuse y's array if it were recycled
    expect(data[0]).toBe(3);
    expect(data[data.length - 1]).toBe(3);
    tf.dispose([x, z]);
  });

  it('views made by cpu kernels (unstack) survive disposing their source', () => {
    tf.setBackend('native');
    const x = tf.fill([2, 64, 64, 64], 1);
    const y = tf.add(x, 1); // native output, pooled size
    const parts = tf.unstack(y); // cpu kernel: subarray views of y's array
    y.dispose();
    const z = tf.mul(x, 7); // same length as y
    expect(parts[0]!.dataSync()[0]).toBe(2);
    expect(parts[1]!.dataSync()[100]).toBe(2);
    tf.dispose([x, z, ...parts]);
  });

  it('recycled arrays are fully overwritten (no stale values)', () => {
    tf.setBackend('native');
    const x = tf.fill(big, 1);
    for (let i = 0; i < 3; i++) tf.add(x, 100).dispose(); // fill the pool with 101s
    const r = tf.leakyRelu(tf.neg(x), 0.5);
    const s = tf.sum(r).dataSync()[0];
    expect(s).toBe(-0.5 * 262144);
    tf.dispose([x, r]);
  });
});
