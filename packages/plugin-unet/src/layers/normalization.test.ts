import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { serialization } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNormalization5D } from './batch-normalization-5d.js';
import { GroupNormalization } from './group-normalization.js';
import { InstanceNormalization } from './instance-normalization.js';
import { setTestBackend } from '@voxseg/core';

// Golden values: PyTorch 1.13 BatchNorm3d / GroupNorm / InstanceNorm3d in float64, produced by
// packages/plugin-unet/scripts/golden_norms.py (inputs are the formula below, regenerated here).
interface Case { shape: number[]; groups?: number; output: number[] }
const golden = JSON.parse(readFileSync(new URL('./golden/norms.json', import.meta.url), 'utf8')) as {
  batch: { shape: number[]; train: number[]; runningMean: number[]; runningVariance: number[]; evalAfterOneStep: number[] };
  group4: Case; group8: Case; group32: Case; instance: Case;
};

/** Same as `pattern` in golden_norms.py. */
function pattern(shape: number[], a = 0.37, b = 0.11): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * Math.sin(a * i + b) + 0.3 * Math.cos(0.05 * i);
  return tf.tensor(v, shape);
}

/** gamma_c = 1 + 0.1 c, beta_c = 0.05 c - 0.1, as in the script. */
function setAffine(layer: tfl.layers.Layer, c: number, extra: tf.Tensor[] = []): void {
  const gamma = tf.tensor1d(Array.from({ length: c }, (_, i) => 1 + 0.1 * i));
  const beta = tf.tensor1d(Array.from({ length: c }, (_, i) => 0.05 * i - 0.1));
  layer.setWeights([gamma, beta, ...extra]);
  tf.dispose([gamma, beta, ...extra]);
}

function expectClose(actual: tf.Tensor, expected: number[], tol = 2e-5): void {
  const a = actual.dataSync();
  expect(a.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

describe('BatchNormalization5D', () => {
  it('training: batch statistics, PyTorch running-stat update (momentum 0.1, unbiased variance)', () => {
    const x = pattern(golden.batch.shape);
    const bn = new BatchNormalization5D({ name: 'bn' });
    bn.apply(x); // build
    setAffine(bn, 8, [tf.zeros([8]), tf.ones([8])]);
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    expectClose(y, golden.batch.train);
    const [, , mean, variance] = bn.getWeights();
    expectClose(mean!, golden.batch.runningMean, 1e-6);
    expectClose(variance!, golden.batch.runningVariance, 1e-6);
    // Inference uses the running statistics.
    const yEval = bn.apply(x) as tf.Tensor;
    expectClose(yEval, golden.batch.evalAfterOneStep);
    tf.dispose([x, y, yEval]);
    bn.dispose();
  });

  it('inference does not touch the running statistics; the trainable weights are gamma and beta only', () => {
    const x = pattern([1, 2, 2, 2, 3]);
    const bn = new BatchNormalization5D({ name: 'bn' });
    const y = bn.apply(x) as tf.Tensor; // fresh stats: mean 0, var 1
    expectClose(y, Array.from(tf.div(x, Math.sqrt(1 + 1e-5)).dataSync()), 1e-6);
    const [, , mean, variance] = bn.getWeights();
    expect(Array.from(mean!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(variance!.dataSync())).toEqual([1, 1, 1]);
    expect(bn.trainableWeights.map((w) => w.originalName.split('/').pop())).toEqual(['gamma', 'beta']);
    expect(bn.nonTrainableWeights).toHaveLength(2);
    tf.dispose([x, y]);
    bn.dispose();
  });

  it('leaks no tensor in training or inference', () => {
    const x = pattern([2, 2, 2, 2, 4]);
    const bn = new BatchNormalization5D({ name: 'bn' });
    bn.apply(x);
    const before = tf.memory().numTensors;
    tf.dispose(bn.apply(x, { training: true }) as tf.Tensor);
    tf.dispose(bn.apply(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    bn.dispose();
  });
});

describe('GroupNormalization', () => {
  for (const key of ['group4', 'group8', 'group32'] as const) {
    it(`matches torch.nn.GroupNorm (${golden[key].groups} groups, ${golden[key].shape.at(-1)} channels)`, () => {
      const { shape, groups, output } = golden[key];
      const x = key === 'group32' ? pattern(shape, 0.23, 0.5) : pattern(shape);
      const gn = new GroupNormalization({ name: 'gn', groups });
      gn.apply(x);
      setAffine(gn, shape.at(-1)!);
      const y = gn.apply(x) as tf.Tensor;
      expectClose(y, output);
      // Same in training: GroupNorm has no running statistics.
      const yt = gn.apply(x, { training: true }) as tf.Tensor;
      expectClose(yt, output);
      tf.dispose([x, y, yt]);
      gn.dispose();
    });
  }

  it('caps the groups at the channel count and rejects groups that do not divide the channels', () => {
    const x4 = tf.ones([1, 2, 2, 2, 4]);
    const gn = new GroupNormalization({ name: 'gn_capped' }); // 32 groups requested, 4 channels
    tf.dispose(gn.apply(x4) as tf.Tensor);
    expect(gn.trainableWeights.map((w) => w.shape)).toEqual([[4], [4]]);
    const x6 = tf.ones([1, 2, 2, 2, 6]);
    expect(() => new GroupNormalization({ name: 'gn_bad', groups: 4 }).apply(x6)).toThrow(/4 groups do not divide 6 channels/);
    tf.dispose([x4, x6]);
  });

  it('leaks no tensor, gradients flow, and the config round-trips through serialization', () => {
    const x = pattern([2, 2, 2, 2, 8]);
    const gn = new GroupNormalization({ name: 'gn', groups: 4, epsilon: 1e-3 });
    gn.apply(x);
    const loss = (t: tf.Tensor) => tf.sum(tf.square(gn.apply(t) as tf.Tensor));
    const before = tf.memory().numTensors;
    const g = tf.grad(loss)(x);
    const total = tf.tidy(() => tf.sum(tf.abs(g)));
    expect(Number.isFinite(total.dataSync()[0]!)).toBe(true);
    tf.dispose([g, total]);
    expect(tf.memory().numTensors).toBe(before);
    const config = gn.getConfig();
    const cls = serialization.SerializationMap.getMap().classNameMap['GroupNormalization']!;
    const copy = serialization.SerializationMap.getMap().classNameMap['GroupNormalization']![1](cls[0], config) as GroupNormalization;
    expect(copy.getConfig()).toEqual(config);
    expect(copy.groups).toBe(4);
    x.dispose();
    gn.dispose();
  });
});

describe('InstanceNormalization', () => {
  it('matches torch.nn.InstanceNorm3d(affine=True)', () => {
    const { shape, output } = golden.instance;
    const x = pattern(shape);
    const inorm = new InstanceNormalization({ name: 'in' });
    inorm.apply(x);
    setAffine(inorm, shape.at(-1)!);
    const y = inorm.apply(x) as tf.Tensor;
    expectClose(y, output);
    expect(inorm.getConfig()).not.toHaveProperty('groups');
    tf.dispose([x, y]);
    inorm.dispose();
  });

  it('is registered for serialization under its class name', () => {
    const map = serialization.SerializationMap.getMap().classNameMap;
    for (const name of ['BatchNormalization5D', 'GroupNormalization', 'InstanceNormalization']) {
      expect(map[name], name).toBeDefined();
    }
  });
});
