import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeak, randn, relError, runOn, status } from '../__tests__/compare.js';
import { addon } from '../addon/load-addon.js';
import { CONV3D_INFERENCE } from './conv3d-inference.js';

type Case = { name: string; x: number[]; k: number; cin: number; cout: number; stride: 1 | 2; pad: 'same' | 'valid'; bias: boolean; slope?: number };

// The reference is tfjs's own cpu backend: leakyRelu(conv3d(x, w) + b). Odd sizes, batch 2,
// channel counts below and above the blocked-layout threshold (16 input channels), strides 1
// and 2, both paddings, with and without bias and activation.
const cases: Case[] = [
  { name: '3x3x3 s1 same, odd sizes, batch 2, bias + LeakyReLU', x: [2, 7, 6, 5, 3], k: 3, cin: 3, cout: 5, stride: 1, pad: 'same', bias: true, slope: 0.01 },
  { name: '3x3x3 s2 same, odd sizes, bias, no activation', x: [1, 7, 6, 5, 4], k: 3, cin: 4, cout: 6, stride: 2, pad: 'same', bias: true },
  { name: '3x3x3 s1 valid, no bias, slope 0.2', x: [1, 6, 5, 7, 2], k: 3, cin: 2, cout: 3, stride: 1, pad: 'valid', bias: false, slope: 0.2 },
  { name: '3x3x3 s1 same, 16 -> 17 channels (blocked layout), LeakyReLU', x: [1, 6, 5, 7, 16], k: 3, cin: 16, cout: 17, stride: 1, pad: 'same', bias: true, slope: 0.01 },
  { name: '3x3x3 s2 same, 24 -> 8 channels (blocked), batch 2, odd sizes', x: [2, 5, 7, 3, 24], k: 3, cin: 24, cout: 8, stride: 2, pad: 'same', bias: true, slope: 0.01 },
  { name: '1x1x1, 32 -> 3 channels (an output head), no bias', x: [1, 3, 4, 5, 32], k: 1, cin: 32, cout: 3, stride: 1, pad: 'same', bias: false },
];

function reference(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, c: Case): tf.Tensor {
  let y = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.stride, c.pad) as tf.Tensor;
  if (b) y = tf.add(y, b);
  return c.slope === undefined ? y : tf.leakyRelu(y, c.slope);
}

function fused(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, c: Case): tf.Tensor {
  const attrs = { strides: [c.stride, c.stride, c.stride], pad: c.pad, dilations: [1, 1, 1], ...(c.slope === undefined ? {} : { negativeSlope: c.slope }) };
  return tf.engine().runKernel(CONV3D_INFERENCE, b ? { x, filter: w, bias: b } : { x, filter: w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe.skipIf(!status.available)(`${CONV3D_INFERENCE} (conv + bias + LeakyReLU, one oneDNN primitive) vs cpu`, () => {
  afterEach(() => {
    delete process.env['VOXSEG_CONV_INFER_LAYOUT'];
  });

  for (const c of cases) {
    it(c.name, () => {
      const rng = new Rng(`conv3d inference ${c.name}`);
      const x = randn(rng, c.x);
      const w = randn(rng, [c.k, c.k, c.k, c.cin, c.cout], 0.3);
      const b = c.bias ? randn(rng, [c.cout]) : undefined;
      const [want] = runOn('cpu', () => reference(x, w, b, c));
      for (const layout of ['auto', 'ndhwc', 'blocked']) {
        if (layout === 'auto') delete process.env['VOXSEG_CONV_INFER_LAYOUT'];
        else process.env['VOXSEG_CONV_INFER_LAYOUT'] = layout;
        const [got] = runOn('native', () => fused(x, w, b, c));
        expect(got!.shape).toEqual(want!.shape);
        expect(relError(got!.data, want!.data), `layout ${layout}`).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose([x, w, ...(b ? [b] : [])]);
    });
  }

  it('negative outputs get the slope, positive ones pass unchanged (hand-computed 1x1x1 case)', () => {
    tf.setBackend('native');
    // y = 2 * x + 1 per voxel, then LeakyReLU(0.1): x = [-3, -0.5, 0, 2] -> [-0.5, 0, 1, 5].
    const x = tf.tensor5d([-3, -0.5, 0, 2], [1, 1, 2, 2, 1]);
    const w = tf.tensor5d([2], [1, 1, 1, 1, 1]);
    const b = tf.tensor1d([1]);
    const y = fused(x, w, b, { name: '', x: [], k: 1, cin: 1, cout: 1, stride: 1, pad: 'valid', bias: true, slope: 0.1 });
    expect(Array.from(y.dataSync())).toEqual([Math.fround(-0.5), 0, 1, 5]);
    tf.dispose([x, w, b, y]);
  });

  it('rejects a bias of the wrong length and mismatched channels, naming the shapes', () => {
    tf.setBackend('native');
    const x = tf.zeros([1, 3, 3, 3, 2]);
    const w = tf.zeros([3, 3, 3, 2, 4]);
    const bad = tf.zeros([3]);
    const attrs = { strides: [1, 1, 1], pad: 'same', dilations: [1, 1, 1] } as unknown as tf.NamedAttrMap;
    expect(() => tf.engine().runKernel(CONV3D_INFERENCE, { x, filter: w, bias: bad }, attrs)).toThrow(/bias has shape \[3\], expected \[4\]/);
    const w3 = tf.zeros([3, 3, 3, 3, 4]);
    expect(() => tf.engine().runKernel(CONV3D_INFERENCE, { x, filter: w3 }, attrs)).toThrow(/x \[1,3,3,3,2\] filter \[3,3,3,3,4\]/);
    tf.dispose([x, w, bad, w3]);
  });

  it('leaks no tensor', () => {
    const rng = new Rng('conv3d inference leak');
    const c = cases[3]!;
    const x = randn(rng, c.x);
    const w = randn(rng, [3, 3, 3, c.cin, c.cout], 0.3);
    const b = randn(rng, [c.cout]);
    expectNoLeak(() => {
      for (let i = 0; i < 3; i++) fused(x, w, b, c).dispose();
    });
    tf.dispose([x, w, b]);
  });

  // x2: the input is concat([x, x2], -1). The blocked path (both widths multiples of 16)
  // reorders each part into its channel range of the conv's buffer; others concatenate first.
  // Either way the convolution sees the same bytes as for the concatenated tensor, so the
  // result must equal the single-input kernel on tf.concat([x, x2]) bit for bit.
  const concatCases: [string, number[], number, number, number][] = [
    ['16 + 16 -> 8 channels, odd sizes, batch 2 (blocked, no concat)', [2, 5, 7, 3], 16, 16, 8],
    ['32 + 16 -> 17 channels, stride 2 (blocked, no concat)', [1, 7, 6, 5], 32, 16, 17],
    ['4 + 20 -> 5 channels (off the channel block: concatenated first)', [1, 5, 4, 3], 4, 20, 5],
  ];
  for (const [name, dhw, c1, c2, cout] of concatCases) {
    it(`x2 (concat fused into the conv): ${name}`, () => {
      const rng = new Rng(`conv3d inference x2 ${name}`);
      const x = randn(rng, [...dhw, c1]);
      const x2 = randn(rng, [...dhw, c2]);
      const w = randn(rng, [3, 3, 3, c1 + c2, cout], 0.3);
      const b = randn(rng, [cout]);
      const stride = name.includes('stride 2') ? 2 : 1;
      const attrs = { strides: [stride, stride, stride], pad: 'same', dilations: [1, 1, 1], negativeSlope: 0.01 } as unknown as tf.NamedAttrMap;
      // The fused call first, on fresh buffers: the blocked input buffer is shared between calls,
      // so a part left unwritten would otherwise still hold the concatenated call's bytes.
      addon().clearConvInferenceCache();
      const [got] = runOn('native', () => tf.engine().runKernel(CONV3D_INFERENCE, { x, x2, filter: w, bias: b }, attrs) as tf.Tensor);
      const [want] = runOn('native', () => tf.engine().runKernel(CONV3D_INFERENCE, { x: tf.concat([x, x2], -1), filter: w, bias: b }, attrs) as tf.Tensor);
      expect(got!.shape).toEqual(want!.shape);
      expect(Array.from(got!.data)).toEqual(Array.from(want!.data));
      // And against tfjs's cpu conv on the concatenation (guards the reference itself).
      const [ref] = runOn('cpu', () => [tf.leakyRelu(tf.add(tf.conv3d(tf.concat([x, x2], -1) as tf.Tensor5D, w as tf.Tensor5D, stride, 'same'), b), 0.01)]);
      expect(relError(got!.data, ref!.data)).toBeLessThanOrEqual(1e-5);
      tf.setBackend('native');
      expectNoLeak(() => {
        tf.dispose(tf.engine().runKernel(CONV3D_INFERENCE, { x, x2, filter: w, bias: b }, attrs) as tf.Tensor);
      });
      tf.dispose([x, x2, w, b]);
    });
  }

  it('rejects an x2 whose spatial shape differs from x, naming both', () => {
    tf.setBackend('native');
    const x = tf.zeros([1, 3, 3, 3, 16]);
    const x2 = tf.zeros([1, 3, 3, 4, 16]);
    const w = tf.zeros([3, 3, 3, 32, 4]);
    const attrs = { strides: [1, 1, 1], pad: 'same', dilations: [1, 1, 1] } as unknown as tf.NamedAttrMap;
    expect(() => tf.engine().runKernel(CONV3D_INFERENCE, { x, x2, filter: w }, attrs)).toThrow(/x2 must be .* got x \[1,3,3,3,16\] x2 \[1,3,3,4,16\]/);
    tf.dispose([x, x2, w]);
  });
});
