import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { addon } from '../addon/load-addon.js';
import { expectNoLeak, expectSameOnBoth, randn, skipReason, status } from '../__tests__/compare.js';
import { convParams, nativeConv3dBias } from './conv3d.js';

type Case = { name: string; x: number[]; k: number; cin: number; cout: number; stride: 1 | 2; pad: 'same' | 'valid' };

// Every kernel/stride/padding the U-Nets use, with odd sizes, batch > 1, one channel and
// channel counts that are not multiples of 8.
const cases: Case[] = [
  { name: '3x3x3 s1 same, odd sizes, batch 2', x: [2, 7, 6, 5, 3], k: 3, cin: 3, cout: 5, stride: 1, pad: 'same' },
  { name: '3x3x3 s2 same (downsampling), odd sizes', x: [2, 7, 6, 5, 4], k: 3, cin: 4, cout: 6, stride: 2, pad: 'same' },
  { name: '3x3x3 s1 valid', x: [1, 6, 5, 7, 2], k: 3, cin: 2, cout: 3, stride: 1, pad: 'valid' },
  { name: '3x3x3 s2 valid', x: [1, 7, 7, 6, 2], k: 3, cin: 2, cout: 3, stride: 2, pad: 'valid' },
  { name: '2x2x2 s2 valid', x: [2, 6, 4, 8, 5], k: 2, cin: 5, cout: 3, stride: 2, pad: 'valid' },
  { name: '2x2x2 s2 same, odd sizes', x: [1, 5, 7, 3, 3], k: 2, cin: 3, cout: 2, stride: 2, pad: 'same' },
  { name: '1x1x1 s1 (output heads), channels 1 -> 1', x: [2, 3, 4, 5, 1], k: 1, cin: 1, cout: 1, stride: 1, pad: 'same' },
  { name: '1x1x1 s1, 9 -> 12 channels', x: [1, 3, 3, 5, 9], k: 1, cin: 9, cout: 12, stride: 1, pad: 'valid' },
  { name: '3x3x3 s1 same, 1 -> 17 channels', x: [1, 5, 5, 5, 1], k: 3, cin: 1, cout: 17, stride: 1, pad: 'same' },
  { name: '3x3x3 s1 same, 16 -> 16 channels (blocked layouts)', x: [1, 6, 6, 6, 16], k: 3, cin: 16, cout: 16, stride: 1, pad: 'same' },
];

describe.skipIf(!status.available)('native Conv3D kernels vs cpu', () => {
  for (const c of cases) {
    it(`forward and both gradients: ${c.name}`, () => {
      const rng = new Rng(`conv3d ${c.name}`);
      const x = randn(rng, c.x);
      const w = randn(rng, [c.k, c.k, c.k, c.cin, c.cout], 0.3);
      const probe = tf.tidy(() => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.stride, c.pad));
      const dyProbe = randn(rng, probe.shape);
      probe.dispose();
      // Loss = sum(conv(x, w) * dy), so the gradients are exactly the backprop kernels on dy.
      expectSameOnBoth(() => {
        const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(xx as tf.Tensor5D, ww as tf.Tensor5D, c.stride, c.pad), dyProbe));
        const [gx, gw] = tf.grads(f)([x, w]);
        return [tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.stride, c.pad), gx!, gw!];
      });
      tf.dispose([x, w, dyProbe]);
    });
  }

  it('nativeConv3dBias (bias fused into forward and filter gradient) vs conv3d + add on cpu', () => {
    const rng = new Rng('conv3d bias');
    for (const c of [cases[0]!, cases[1]!, cases[3]!, cases[4]!, cases[6]!]) {
      const x = randn(rng, c.x) as tf.Tensor5D;
      const w = randn(rng, [c.k, c.k, c.k, c.cin, c.cout], 0.3) as tf.Tensor5D;
      const b = randn(rng, [c.cout]) as tf.Tensor1D;
      const y0 = tf.tidy(() => nativeConv3dBias(x, w, b, c.stride, c.pad));
      const dy = randn(rng, y0.shape);
      y0.dispose();
      expectSameOnBoth(() => {
        const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(nativeConv3dBias(xx as tf.Tensor5D, ww as tf.Tensor5D, bb as tf.Tensor1D, c.stride, c.pad), dy));
        return [nativeConv3dBias(x, w, b, c.stride, c.pad), ...tf.grads(f)([x, w, b])];
      });
      tf.dispose([x, w, b, dy]);
    }
  });

  it('nativeConv3dBias skips the input gradient when only weights need one (a network input)', async () => {
    tf.setBackend('native');
    const rng = new Rng('conv3d bias input');
    const x = randn(rng, [1, 4, 4, 4, 2]) as tf.Tensor5D;
    const w = randn(rng, [3, 3, 3, 2, 3]) as tf.Tensor5D;
    const b = randn(rng, [3]) as tf.Tensor1D;
    const info = await tf.profile(() => tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(nativeConv3dBias(x, ww as tf.Tensor5D, bb as tf.Tensor1D, 1, 'same')))([w, b]));
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('VoxsegConv3DBackpropFilterBias');
    expect(names).not.toContain('Conv3DBackpropInputV2');
    tf.dispose([x, w, b, ...(info.result as tf.Tensor[])]);
  });

  it('conv3dTranspose (Conv3DBackpropInputV2) 2x2x2 s2, as the U-Net upsamples', () => {
    const rng = new Rng('conv3d transpose');
    for (const pad of ['same', 'valid'] as const) {
      const x = randn(rng, [2, 3, 4, 3, 6]);
      const w = randn(rng, [2, 2, 2, 5, 6]); // [kd, kh, kw, out, in] for a transposed conv
      expectSameOnBoth(() => tf.conv3dTranspose(x as tf.Tensor5D, w as tf.Tensor5D, [2, 6, 8, 6, 5], 2, pad));
      tf.dispose([x, w]);
    }
  });

  it('zero-size tensors do not crash and give empty or zero outputs', () => {
    tf.setBackend('native');
    const x = tf.zeros([0, 4, 4, 4, 2]);
    const w = tf.ones([3, 3, 3, 2, 3]);
    const y = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, 'same');
    expect(y.shape).toEqual([0, 4, 4, 4, 3]);
    const gw = tf.grad((ww: tf.Tensor) => tf.sum(tf.conv3d(x as tf.Tensor5D, ww as tf.Tensor5D, 1, 'same')))(w);
    expect(Array.from(gw.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([x, w, y, gw]);
  });

  it('shape mismatches surface as errors naming the op and the shapes', () => {
    tf.setBackend('native');
    const dy = tf.zeros([1, 3, 3, 3, 4]);
    const w = tf.zeros([3, 3, 3, 2, 4]);
    expect(() => tf.engine().runKernel(tf.Conv3DBackpropInputV2, { dy, filter: w }, { strides: [1, 1, 1], pad: 'same', inputShape: [1, 5, 5, 5, 2] })).toThrow(
      /Conv3DBackpropInputV2: dy has shape \[1,3,3,3,4\], expected \[1,5,5,5,4\]/,
    );
    // The addon itself checks buffer sizes against the geometry and names it.
    const info = tf.backend_util.computeConv3DInfo([1, 5, 5, 5, 2], [3, 3, 3, 2, 4], 1, 1, 'same');
    expect(() => addon().conv3dForward(new Float32Array(10), new Float32Array(216), new Float32Array(500), convParams(info))).toThrow(
      /Conv3D x has 10 elements, expected 250 for x \[1,5,5,5,2\] filter \[3,3,3,2,4\]/,
    );
    // Geometry oneDNN itself rejects (an output depth the padding cannot produce): its
    // error comes back as a JS exception naming the op and every shape.
    const bad = convParams(info);
    bad[5] = 4; // out depth 4 instead of 5
    expect(() => addon().conv3dForward(new Float32Array(250), new Float32Array(216), new Float32Array(400), bad)).toThrow(
      /Conv3D failed in oneDNN \(.*\) for x \[1,5,5,5,2\] filter \[3,3,3,2,4\] y \[1,4,5,5,4\]/,
    );
    tf.dispose([dy, w]);
  });

  it('leaks no tensors through forward and backward', () => {
    const rng = new Rng('conv leak');
    const x = randn(rng, [1, 4, 4, 4, 3]);
    const w = randn(rng, [3, 3, 3, 3, 2]);
    expectNoLeak(() => {
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 2, 'same')))([x, w]);
      tf.dispose([gx!, gw!]);
    });
    tf.dispose([x, w]);
  });
});

describe.skipIf(status.available)('native backend unavailable', () => {
  it('reports why and how to enable it', () => {
    console.warn(skipReason);
    expect(status.reason).toMatch(/libdnnl-dev|disabled|addon/);
  });
});
