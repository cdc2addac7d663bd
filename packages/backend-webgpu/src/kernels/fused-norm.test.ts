/**
 * The WGSL fused norm kernels (`VoxsegNormForward` / `VoxsegNormBackward`) against the `cpu`
 * backend. Goldens: `@voxseg/plugin-unet`'s `fusedNorm` on `cpu`, whose forward and backward
 * are plain loops summing in float64 (`layers/fused-norm-js.ts`, itself tested there against the
 * tfjs-ops version), differentiated through its own gradient with `tf.grads`. On `webgpu` the
 * kernels are called directly (with the fused LeakyReLU, which plugin-unet applies outside the
 * kernel) and through `fusedNorm` (which must pick them up because they are registered).
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_NORM_BACKWARD, FUSED_NORM_FORWARD, type FusedNormKernelAttrs } from '@voxseg/core';
import { fusedNorm } from '@voxseg/plugin-unet';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, runOn, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { setMaxBindingBytes } from './binding-split.js';

const status = await webgpuForTests();

interface Case {
  name: string;
  shape: number[];
  groups: number;
  acrossBatch: boolean;
  negativeSlope?: number;
}

const CASES: Case[] = [
  { name: 'GroupNorm, 2 groups of 3, 5x7x3, batch 2', shape: [2, 5, 7, 3, 6], groups: 2, acrossBatch: false },
  { name: 'GroupNorm, 3 groups of 2, batch 1, + LeakyReLU', shape: [1, 5, 7, 3, 6], groups: 3, acrossBatch: false, negativeSlope: 0.01 },
  { name: 'InstanceNorm (6 groups), batch 2, + LeakyReLU', shape: [2, 5, 7, 3, 6], groups: 6, acrossBatch: false, negativeSlope: 0.01 },
  { name: 'BatchNorm (acrossBatch), batch 2', shape: [2, 5, 7, 3, 6], groups: 6, acrossBatch: true },
  { name: 'BatchNorm (acrossBatch), batch 2, + LeakyReLU', shape: [2, 5, 7, 3, 6], groups: 6, acrossBatch: true, negativeSlope: 0.01 },
  { name: 'GroupNorm 32 groups of 10, 320 channels (two channel passes), 3x2x2, batch 1', shape: [1, 3, 2, 2, 320], groups: 32, acrossBatch: false, negativeSlope: 0.01 },
  { name: 'rank 3 [N, S, C], 2 groups, many row blocks (S = 700)', shape: [2, 700, 6], groups: 2, acrossBatch: false },
  { name: 'rank 2 [N, C] (S = 1), BatchNorm', shape: [3, 4], groups: 4, acrossBatch: true },
];

/** y, mean, variance and the gradients of sum(y * w) for x, gamma, beta, on the cpu reference. */
function reference(c: Case): () => tf.Tensor[] {
  return () => {
    const { x, gamma, beta, w } = operands(c);
    const opts = { groups: c.groups, acrossBatch: c.acrossBatch, epsilon: 1e-5, ...(c.negativeSlope !== undefined ? { negativeSlope: c.negativeSlope } : {}) };
    const r = fusedNorm(x, gamma, beta, opts);
    const [dx, dg, db] = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fusedNorm(xx, gg, bb, opts).y, w)))([x, gamma, beta]);
    return [r.y, r.mean, r.variance, dx!, dg!, db!];
  };
}

function operands(c: Case): { x: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor; w: tf.Tensor } {
  const ch = c.shape[c.shape.length - 1]!;
  // An offset and scale per channel, so that the means and variances differ between groups.
  const x = tf.add(tf.mul(seeded(c.shape, 11), tf.linspace(0.5, 3, ch)), tf.linspace(-2, 2, ch));
  return { x, gamma: tf.add(seeded([ch], 12), 1), beta: seeded([ch], 13), w: seeded(c.shape, 14) };
}

/** The same through the kernels directly, with the LeakyReLU fused into them. */
function kernels(c: Case): () => tf.Tensor[] {
  return () => {
    const { x, gamma, beta, w } = operands(c);
    const attrs: FusedNormKernelAttrs = { groups: c.groups, acrossBatch: c.acrossBatch, epsilon: 1e-5 };
    if (c.negativeSlope !== undefined) attrs.negativeSlope = c.negativeSlope;
    const a = attrs as unknown as tf.NamedAttrMap;
    const [y, mean, variance] = tf.engine().runKernel(FUSED_NORM_FORWARD, { x, gamma, beta }, a) as tf.Tensor[];
    const inputs: tf.NamedTensorMap = { dy: w, x, mean: mean!, variance: variance!, gamma };
    if (c.negativeSlope !== undefined) inputs.y = y!;
    const [dx, dg, db] = tf.engine().runKernel(FUSED_NORM_BACKWARD, inputs, a) as tf.Tensor[];
    return [y!, mean!, variance!, dx!, dg!, db!];
  };
}

const NAMES = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];

function expectClose(got: Float32Array[], want: Float32Array[], tol: number): void {
  for (let i = 0; i < want.length; i++) {
    expect(relError(got[i]!, want[i]!), NAMES[i]).toBeLessThan(tol);
  }
}

describe.skipIf(!status.available)('fused norm kernels on webgpu match cpu', () => {
  afterAll(async () => {
    setMaxBindingBytes(undefined);
    await tf.setBackend('cpu');
  });

  it('are registered on webgpu under the contract names', () => {
    expect(tf.getKernel(FUSED_NORM_FORWARD, 'webgpu')).toBeDefined();
    expect(tf.getKernel(FUSED_NORM_BACKWARD, 'webgpu')).toBeDefined();
  });

  for (const c of CASES) {
    it(`${c.name}: values and gradients within 1e-5`, async () => {
      const want = await runOn('cpu', reference(c));
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      const got = await runOn('webgpu', kernels(c));
      expect(tf.memory().numTensors).toBe(before);
      expect(got.map((g) => g.length)).toEqual(want.map((g) => g.length));
      expectClose(got, want, 1e-5);
    });
  }

  it("plugin-unet's fusedNorm runs them on webgpu (values and gradients)", async () => {
    const c = CASES[2]!;
    const want = await runOn('cpu', reference(c));
    const got = await runOn('webgpu', reference(c));
    expectClose(got, want, 1e-5);
  });

  it('split into pieces below a lowered binding limit: the same bits as one piece, and still cpu', async () => {
    // 2 x 9 x 10 x 11 x 32 floats = 253 KB: with a 64 KiB cap every full-size pass runs in pieces.
    const c: Case = { name: 'split', shape: [2, 9, 10, 11, 32], groups: 8, acrossBatch: false, negativeSlope: 0.01 };
    const bn: Case = { ...c, groups: 32, acrossBatch: true };
    for (const k of [c, bn]) {
      const whole = await runOn('webgpu', kernels(k));
      setMaxBindingBytes(64 * 1024);
      try {
        await tf.setBackend('webgpu');
        const before = tf.memory().numTensors;
        const split = await runOn('webgpu', kernels(k));
        expect(tf.memory().numTensors).toBe(before);
        for (let i = 0; i < whole.length; i++) expect(relError(split[i]!, whole[i]!, 1e-30), NAMES[i]).toBe(0);
      } finally {
        setMaxBindingBytes(undefined);
      }
      expectClose(whole, await runOn('cpu', reference(k)), 1e-5);
    }
  });

  it('bad input is one line naming the kernel and the problem', async () => {
    await tf.setBackend('webgpu');
    const x = tf.zeros([1, 2, 2, 2, 6]);
    const g = tf.ones([6]);
    expect(() => tf.engine().runKernel(FUSED_NORM_FORWARD, { x, gamma: g, beta: g }, { groups: 4, acrossBatch: false, epsilon: 1e-5 })).toThrow(
      /VoxsegNormForward: 6 channels of x \[1, 2, 2, 2, 6\] are not divisible into 4 groups/,
    );
    const s = tf.zeros([1, 2]);
    expect(() =>
      tf.engine().runKernel(FUSED_NORM_BACKWARD, { dy: x, x, mean: s, variance: s, gamma: g }, { groups: 2, acrossBatch: false, epsilon: 1e-5, negativeSlope: 0.01 }),
    ).toThrow(/needs the forward output as input y/);
    tf.dispose([x, g, s]);
  });
});
