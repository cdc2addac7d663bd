// Test helpers: run the same computation on `cpu` and `native` and compare.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { expect } from 'vitest';
import { registerNativeBackend } from '../backend/native-backend.js';

/** Registered once per test file; tests skip with this reason when unavailable. */
export const status = registerNativeBackend();
export const skipReason = status.available ? '' : `native backend unavailable (${status.reason}); skipping`;
if (!status.available) console.warn(`[backend-native tests] ${skipReason}`);

/** A float32 tensor of standard-normal values from a seeded Rng (never Math.random). */
export function randn(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal() * scale), shape, 'float32');
}

/** Run `fn` on `backend`, returning every output's data and shape (tensors disposed). */
export function runOn(backend: 'cpu' | 'native', fn: () => tf.Tensor | tf.Tensor[]): { data: Float32Array; shape: number[] }[] {
  tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const res = list.map((t) => ({ data: Float32Array.from(t.dataSync() as ArrayLike<number>), shape: t.shape }));
  tf.dispose(list);
  return res;
}

/**
 * Relative error of `got` against `want`: max |got - want| / max |want| (normalised by
 * the largest reference value, so values near zero do not blow the ratio up).
 */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (Number.isNaN(g) !== Number.isNaN(w)) return Infinity; // NaN must match NaN
      continue;
    }
    if (g === w) continue; // equal infinities
    diff = Math.max(diff, Math.abs(g - w));
    if (Number.isFinite(w)) ref = Math.max(ref, Math.abs(w));
  }
  return ref === 0 ? diff : diff / ref;
}

/** Run fn on both backends; expect equal shapes and relative error <= tol for each output. */
export function expectSameOnBoth(fn: () => tf.Tensor | tf.Tensor[], tol = 1e-4): void {
  const want = runOn('cpu', fn);
  const got = runOn('native', fn);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i]!.shape);
    expect(g.data.length).toBe(want[i]!.data.length);
    expect(relError(g.data, want[i]!.data), `output ${i} of shape [${g.shape.join(',')}]`).toBeLessThanOrEqual(tol);
  });
  tf.setBackend('native');
}

/** Expect no tensor to outlive fn on the native backend. */
export function expectNoLeak(fn: () => void): void {
  tf.setBackend('native');
  const before = tf.memory().numTensors;
  fn();
  expect(tf.memory().numTensors).toBe(before);
}
