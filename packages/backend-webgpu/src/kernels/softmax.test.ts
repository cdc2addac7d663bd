/**
 * The WGSL last-axis softmax against tfjs's `cpu` backend (`tf.softmax` and its registered
 * gradient there are the goldens): through `tf.softmax` on webgpu (this package replaces
 * tfjs-backend-webgpu's `Softmax`) and through `@voxseg/plugin-axial-attention`'s
 * `softmaxLastAxis`, which calls `@voxseg/core`'s softmax kernels when the backend registers them.
 * Values and the gradient of a weighted sum, attention-like and odd shapes, more rows than one
 * dispatch dimension holds workgroups of tfjs's kernel, pieces under a lowered binding cap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_LAST_AXIS_BACKWARD, SOFTMAX_LAST_AXIS_FORWARD } from '@voxseg/core';
import { softmaxLastAxis } from '@voxseg/plugin-axial-attention';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, runOn, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { setMaxBindingBytes } from './binding-split.js';
import { threadsPerRow } from './softmax.js';

const status = await webgpuForTests();

/** Softmax and the gradient of sum(softmax(x) * w) with `f`, on logits scaled to [-20, 20) (one at 120). */
function softmaxAndGrad(shape: number[], f: (x: tf.Tensor) => tf.Tensor, withGrad = true): () => tf.Tensor[] {
  return () => {
    const size = shape.reduce((p, d) => p * d, 1);
    // A spike built on the CPU (tf.scatterND's own fill binds the whole tensor: no split under a lowered cap).
    const spike = new Float32Array(size);
    spike[0] = 100;
    const x = tf.add(tf.mul(seeded(shape, 21), 20), tf.tensor(spike, shape)); // exp(120) overflows float32 without the max shift
    const w = seeded(shape, 22);
    if (!withGrad) return [f(x)];
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), w)))(x);
    return [f(x), g];
  };
}

const SHAPES = [
  [64, 8, 8], // attention scores [sequences, L, L], L = 8
  [3, 5, 7], // odd
  [2, 300], // 64 threads per row
  [70_000, 3], // more than 65535 rows: tfjs-backend-webgpu 4.22's Softmax is wrong here
];

describe.skipIf(!status.available)('softmax kernels on webgpu match cpu', () => {
  afterAll(async () => {
    setMaxBindingBytes(undefined);
    await tf.setBackend('cpu');
  });

  it('are registered under the contract names and as Softmax', () => {
    for (const k of [SOFTMAX_LAST_AXIS_FORWARD, SOFTMAX_LAST_AXIS_BACKWARD, 'Softmax']) expect(tf.getKernel(k, 'webgpu'), k).toBeDefined();
    expect([1, 8, 9, 64, 65, 300, 5000].map(threadsPerRow)).toEqual([1, 1, 2, 8, 16, 64, 256]);
  });

  for (const shape of SHAPES) {
    it(`[${shape.join(', ')}]: tf.softmax and softmaxLastAxis, values and gradients within 1e-5`, async () => {
      const want = await runOn('cpu', softmaxAndGrad(shape, (x) => tf.softmax(x)));
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      // tf.softmax's gradient is tfjs's op composition (its reductions take one workgroup per
      // row: minutes on SwiftShader for 70 000 rows), so only small shapes check it.
      const small = shape.reduce((p, d) => p * d, 1) < 10_000;
      const viaTf = await runOn('webgpu', softmaxAndGrad(shape, (x) => tf.softmax(x), small));
      const viaPlugin = await runOn('webgpu', softmaxAndGrad(shape, softmaxLastAxis));
      expect(tf.memory().numTensors).toBe(before);
      for (const [name, got] of [['tf.softmax', viaTf], ['softmaxLastAxis', viaPlugin]] as const) {
        expect(relError(got[0]!, want[0]!), `${name} value`).toBeLessThan(1e-5);
        if (got.length > 1) expect(relError(got[1]!, want[1]!), `${name} gradient`).toBeLessThan(1e-5);
      }
    });
  }

  it('runs in pieces of whole rows below a lowered binding limit: the same bits', async () => {
    const shape = [40, 300]; // 48 KB against a 16 KiB cap
    const whole = await runOn('webgpu', softmaxAndGrad(shape, softmaxLastAxis));
    setMaxBindingBytes(16 * 1024);
    try {
      const split = await runOn('webgpu', softmaxAndGrad(shape, softmaxLastAxis));
      expect(relError(split[0]!, whole[0]!, 1e-30)).toBe(0);
      expect(relError(split[1]!, whole[1]!, 1e-30)).toBe(0);
    } finally {
      setMaxBindingBytes(undefined);
    }
  });
});
