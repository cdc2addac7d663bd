import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradients
import { selectBackend } from '@voxseg/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fusedNorm, NATIVE_NORM_KERNEL } from './fused-norm.js';

// The native path (backend-native's fused kernels inside fusedNorm's op) must equal the JS
// path. Skipped where @voxseg/backend-native is not built.
const nativeReady = await selectBackend('native').then(
  () => tf.getKernel(NATIVE_NORM_KERNEL, 'native') !== undefined,
  () => false,
);
afterAll(async () => {
  await tf.setBackend('cpu');
});

function seq(shape: number[], a: number, b: number): Float32Array {
  const n = shape.reduce((p, q) => p * q, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(a * i + b) * 1.5);
}

describe.skipIf(!nativeReady)('fusedNorm on backend-native (skipped when its addon is not built)', () => {
  for (const [groups, acrossBatch, slope] of [[4, true, 0.01], [2, false, 0.01], [4, false, undefined]] as const) {
    it(`equals the cpu path: value and gradients (groups ${groups}, acrossBatch ${acrossBatch}, slope ${slope})`, async () => {
      const shape = [2, 3, 4, 5, 4];
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const x = tf.tensor(seq(shape, 0.7, 0.3), shape);
        const g = tf.tensor(seq([4], 1.1, 1.5));
        const b = tf.tensor(seq([4], 0.9, 0.2));
        const probe = tf.tensor(seq(shape, 0.29, 0.8), shape);
        const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.tidy(() => tf.sum(tf.mul(fusedNorm(xx, gg, bb, { groups, acrossBatch, epsilon: 1e-5, negativeSlope: slope }).y, probe)) as tf.Scalar);
        const value = f(x, g, b).dataSync()[0]!;
        const grads = tf.grads(f)([x, g, b]).map((t) => Array.from(t.dataSync()));
        return { value, grads };
      };
      const native = await run('native');
      const cpu = await run('cpu');
      expect(native.value).toBeCloseTo(cpu.value, 3);
      native.grads.forEach((gr, i) => gr.forEach((v, j) => expect(v).toBeCloseTo(cpu.grads[i]![j]!, 3)));
    });
  }
});
