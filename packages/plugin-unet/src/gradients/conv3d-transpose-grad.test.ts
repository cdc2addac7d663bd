import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { registerConv3dTransposeGradient } from './conv3d-transpose-grad.js';
import { setTestBackend } from '@voxseg/core';

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
  registerConv3dTransposeGradient();
});

/** Central finite differences of a scalar function of a Float64 copy of `x`. */
function numericGrad(f: (t: tf.Tensor) => tf.Scalar, x: tf.Tensor, eps = 1e-2): Float32Array {
  const base = x.dataSync().slice();
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice(); plus[i]! += eps;
    const minus = base.slice(); minus[i]! -= eps;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)).dataSync()[0]!);
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)).dataSync()[0]!);
    out[i] = (fp - fm) / (2 * eps);
  }
  return out;
}

function seq(shape: number[], a: number, b: number): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(a * i + b)), shape);
}

describe('Conv3DBackpropInputV2 gradient (conv3dTranspose)', () => {
  for (const [pad, k] of [['valid', 2], ['same', 3]] as const) {
    it(`matches finite differences for input and filter (kernel ${k}, stride 2, ${pad})`, () => {
      const x = seq([1, 2, 2, 2, 3], 0.7, 0.1) as tf.Tensor5D;
      const w = seq([k, k, k, 2, 3], 0.37, 0.4) as tf.Tensor5D; // [k,k,k,out,in]
      const outShape: [number, number, number, number, number] = [1, 4, 4, 4, 2];
      const weight = seq(outShape, 0.23, 0.9); // a non-uniform upstream gradient
      const loss = (xx: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv3dTranspose(xx as tf.Tensor5D, ww as tf.Tensor5D, outShape, 2, pad), weight)) as tf.Scalar;
      const before = tf.memory().numTensors;
      const [gx, gw] = tf.grads(loss)([x, w]);
      expect(tf.memory().numTensors).toBe(before + 2);
      const nx = numericGrad((t) => loss(t, w), x);
      const nw = numericGrad((t) => loss(x, t), w);
      const ax = gx!.dataSync();
      const aw = gw!.dataSync();
      for (let i = 0; i < nx.length; i++) expect(ax[i]).toBeCloseTo(nx[i]!, 2);
      for (let i = 0; i < nw.length; i++) expect(aw[i]).toBeCloseTo(nw[i]!, 2);
      tf.dispose([x, w, weight, gx!, gw!]);
    });
  }
});
