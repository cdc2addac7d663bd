import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv3DBias } from './conv3d-bias.js';
import { fusedNorm } from './fused-norm.js';
import { setTestBackend } from '@voxseg/core';

// The hand-written backward passes against tfjs autodiff of the same maths (plain ops).

function seq(shape: number[], a: number, b: number): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(a * i + b)), shape);
}

function expectAllClose(actual: tf.Tensor, expected: tf.Tensor, tol: number): void {
  expect(actual.shape).toEqual(expected.shape);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!);
  expect(d).toBeLessThan(tol);
}

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

describe('Conv3DBias', () => {
  for (const [strides, padding] of [[1, 'same'], [2, 'same'], [1, 'valid']] as const) {
    it(`value and gradients equal tfjs conv3d + bias autodiff (stride ${strides}, ${padding})`, () => {
      const x = seq([2, 6, 6, 6, 3], 0.37, 0.2);
      const layer = new Conv3DBias({ name: `c${strides}${padding}`, filters: 4, strides, padding });
      layer.apply(x);
      const w = seq([3, 3, 3, 3, 4], 0.51, 0.9);
      const b = seq([4], 1.3, 0.4);
      layer.setWeights([w, b]);
      const expectedShape = layer.computeOutputShape([null, 6, 6, 6, 3]);
      const probe = seq(padding === 'same' ? [2, 6 / strides, 6 / strides, 6 / strides, 4] : [2, 4, 4, 4, 4], 0.23, 0.1);
      const ours = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, probe)) as tf.Scalar);
      const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(tf.add(tf.conv3d(xx as tf.Tensor5D, ww as tf.Tensor5D, strides, padding), bb), probe)) as tf.Scalar;
      const [gx] = ours([x]);
      const [rx, rw, rb] = tf.grads(ref)([x, w, b]);
      expectAllClose(gx!, rx!, 1e-4);
      // weight gradients through the layer's variables
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, probe)) as tf.Scalar);
      const [kv, bv] = layer.trainableWeights.map((v) => grads[(v.read() as tf.Variable).name]!);
      expectAllClose(kv!, rw!, 1e-3);
      expectAllClose(bv!, rb!, 1e-4);
      expect((layer.apply(x) as tf.Tensor).shape.slice(1)).toEqual(expectedShape.slice(1));
      tf.dispose([x, w, b, probe, gx!, rx!, rw!, rb!, ...Object.values(grads)]);
    });
  }

  it('config round-trips through serialization', () => {
    const layer = new Conv3DBias({ name: 'cfg', filters: 5, kernelSize: 3, strides: 2, padding: 'same', useBias: false });
    const copy = tfl.layers.Layer.fromConfig(Conv3DBias as never, layer.getConfig()) as Conv3DBias;
    expect(copy.getConfig()).toEqual(layer.getConfig());
  });
});

describe('fusedNorm with a fused LeakyReLU', () => {
  for (const [groups, acrossBatch] of [[2, false], [4, true]] as const) {
    it(`gradients equal autodiff of leakyRelu(norm(x)) (groups ${groups}, acrossBatch ${acrossBatch})`, () => {
      const x = seq([2, 3, 3, 3, 4], 0.7, 0.3);
      const gamma = seq([4], 1.1, 1.5);
      const beta = seq([4], 0.9, 0.2);
      const probe = seq([2, 3, 3, 3, 4], 0.29, 0.8);
      const ours = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.tidy(() => {
          const r = fusedNorm(xx, g, b, { groups, acrossBatch, epsilon: 1e-5, negativeSlope: 0.01 });
          return tf.sum(tf.mul(r.y, probe)) as tf.Scalar;
        });
      const ref = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const grouped = tf.reshape(xx, [acrossBatch ? 1 : 2, -1, groups, 4 / groups]);
        const m = tf.moments(grouped, [1, 3], true);
        const y = tf.add(tf.mul(tf.reshape(tf.div(tf.sub(grouped, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), xx.shape), g), b);
        return tf.sum(tf.mul(tf.leakyRelu(y, 0.01), probe)) as tf.Scalar;
      };
      const a = tf.grads(ours)([x, gamma, beta]);
      const e = tf.grads(ref)([x, gamma, beta]);
      a.forEach((t, i) => expectAllClose(t, e[i]!, 1e-4));
      expect(tf.tidy(() => ours(x, gamma, beta).dataSync()[0]!)).toBeCloseTo(tf.tidy(() => ref(x, gamma, beta).dataSync()[0]!), 4);
      tf.dispose([x, gamma, beta, probe, ...a, ...e]);
    });
  }
});

describe('fusedNorm: cpu plain loops = tfjs-ops version', () => {
  for (const [groups, acrossBatch, slope] of [[4, true, 0.01], [2, false, 0.01], [4, false, undefined], [1, false, 0.2]] as const) {
    it(`value, statistics and gradients (groups ${groups}, acrossBatch ${acrossBatch}, slope ${slope})`, () => {
      const shape = [2, 3, 4, 5, 4];
      const x = seq(shape, 0.7, 0.3);
      const gamma = seq([4], 1.1, 1.5);
      const beta = seq([4], 0.9, 0.2);
      const probe = seq(shape, 0.29, 0.8);
      const run = (implementation: 'auto' | 'tfjs-ops') => {
        const opts = { groups, acrossBatch, epsilon: 1e-5, negativeSlope: slope, implementation };
        const r = fusedNorm(x, gamma, beta, opts);
        const grads = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.tidy(() => tf.sum(tf.mul(fusedNorm(xx, g, b, opts).y, probe)) as tf.Scalar),
        )([x, gamma, beta]);
        return [r.y, r.mean, r.variance, ...grads];
      };
      const loops = run('auto');
      const ops = run('tfjs-ops');
      loops.forEach((t, i) => expectAllClose(t, ops[i]!, 1e-4));
      tf.dispose([x, gamma, beta, probe, ...loops, ...ops]);
    });
  }
});
