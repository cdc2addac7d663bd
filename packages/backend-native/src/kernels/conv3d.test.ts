import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../addon/load-addon.js';
import { expectNoLeak, expectSameOnBoth, randn, relError, runOn, skipReason, status } from '../__tests__/compare.js';
import { convParams, nativeConv3dBias, trainLayoutFor } from './conv3d.js';

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

// The blocked training layout (addon layout 1) against channels-last (layout 0, the kernels
// before issue 14): the same convolution, summed in another order, so equal within 1e-5
// relative (max |a - b| / max |b|). Odd sizes, strides 1 and 2, batch 1 and 2, 4/16/32/48
// channels, with and without bias, and the transposed conv's 2x2x2 stride-2 geometry.
type LayoutCase = { x: number[]; k: number; cout: number; stride: 1 | 2; pad: 'same' | 'valid' };
const layoutCases: LayoutCase[] = [
  { x: [2, 7, 6, 5, 16], k: 3, cout: 16, stride: 1, pad: 'same' },
  { x: [1, 9, 7, 8, 32], k: 3, cout: 32, stride: 1, pad: 'same' },
  { x: [2, 7, 9, 6, 32], k: 3, cout: 48, stride: 2, pad: 'same' },
  { x: [1, 5, 6, 7, 48], k: 3, cout: 16, stride: 1, pad: 'valid' },
  { x: [2, 6, 8, 4, 16], k: 2, cout: 32, stride: 2, pad: 'valid' },
  { x: [2, 5, 5, 6, 4], k: 3, cout: 32, stride: 1, pad: 'same' }, // 4 input channels: runs channels-last
  { x: [1, 6, 5, 5, 32], k: 3, cout: 4, stride: 2, pad: 'same' }, // 4 output channels: channels-last
];

describe.skipIf(!status.available)('training convolutions on the blocked layout vs channels-last', () => {
  afterEach(() => {
    delete process.env['VOXSEG_CONV_TRAIN_LAYOUT'];
  });

  for (const c of layoutCases) {
    const cin = c.x[4]!;
    const name = `x [${c.x.join(',')}] ${c.k}x${c.k}x${c.k} s${c.stride} ${c.pad}, ${cin} -> ${c.cout}`;
    it(`addon, every pass with and without bias: ${name}`, () => {
      const rng = new Rng(`conv3d layout ${name}`);
      const info = tf.backend_util.computeConv3DInfo(c.x as [number, number, number, number, number], [c.k, c.k, c.k, cin, c.cout], c.stride, 1, c.pad);
      const p = convParams(info);
      const data = (shape: number[], scale = 1) => randn(rng, shape, scale).dataSync() as Float32Array;
      const x = data(c.x);
      const w = data([c.k, c.k, c.k, cin, c.cout], 0.3);
      const bias = data([c.cout]);
      const dy = data(info.outShape);
      const run = (layout: number) => {
        const y = new Float32Array(dy.length), yb = new Float32Array(dy.length), dx = new Float32Array(x.length);
        const dw = new Float32Array(w.length), dwb = new Float32Array(w.length), db = new Float32Array(c.cout);
        const ran = [
          addon().conv3dForward(x, w, y, p, layout),
          addon().conv3dForwardBias(x, w, bias, yb, p, layout),
          addon().conv3dBackwardData(dy, w, dx, p, layout),
          addon().conv3dBackwardFilter(x, dy, dw, p, layout),
          addon().conv3dBackwardFilterBias(x, dy, dwb, db, p, layout),
        ];
        return { ran, outs: { y, yb, dx, dw, dwb, db } };
      };
      const old = run(0);
      const blocked = run(1);
      expect(old.ran).toEqual([0, 0, 0, 0, 0]);
      // What must run on the new path (a broken or skipped new path fails here): the forward
      // and the stride-1 backward-data on the blocked layout when both channel counts are
      // multiples of 16 (oneDNN's block is 8 on AVX2, 16 on AVX-512; 4 channels cannot be a
      // plain blocked layout and run channels-last); every stride-1 filter gradient on the
      // GEMM path (any channels). Stride-2 backward-data and filter gradients run blocked only
      // where oneDNN 2.6 has a jit kernel for them (not on AVX2): not asserted.
      const wide = cin % 16 === 0 && c.cout % 16 === 0;
      const [fwd, fwdBias, bwdData, bwdFilter, bwdFilterBias] = blocked.ran;
      expect([fwd, fwdBias]).toEqual(wide ? [1, 1] : [0, 0]);
      if (c.stride === 1 || !wide) expect(bwdData).toBe(wide ? 1 : 0);
      if (c.stride === 1) expect([bwdFilter, bwdFilterBias]).toEqual([1, 1]);
      for (const [k, want] of Object.entries(old.outs)) {
        const got = blocked.outs[k as keyof typeof old.outs];
        expect(relError(got, want), `${k}`).toBeLessThanOrEqual(1e-5);
        expect(want.some((v) => v !== 0), `${k} is not all zero`).toBe(true);
      }
    });
  }

  it('the kernels (conv3d, nativeConv3dBias, conv3dTranspose and their gradients) agree across layouts and with cpu', () => {
    const rng = new Rng('conv3d layout kernels');
    for (const c of layoutCases.slice(0, 5)) {
      const x = randn(rng, c.x) as tf.Tensor5D;
      const w = randn(rng, [c.k, c.k, c.k, c.x[4]!, c.cout], 0.3) as tf.Tensor5D;
      const b = randn(rng, [c.cout]) as tf.Tensor1D;
      const fn = () => {
        const y0 = tf.conv3d(x, w, c.stride, c.pad);
        const dyp = tf.add(0.5, tf.cos(tf.reshape(tf.range(0, y0.size), y0.shape)));
        const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(nativeConv3dBias(xx as tf.Tensor5D, ww as tf.Tensor5D, bb as tf.Tensor1D, c.stride, c.pad), dyp));
        const g = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(xx as tf.Tensor5D, ww as tf.Tensor5D, c.stride, c.pad), dyp));
        // The transposed conv (Conv3DBackpropInputV2 as a forward op) of dyp back to x's shape.
        const t = tf.conv3dTranspose(dyp as tf.Tensor5D, w, c.x as [number, number, number, number, number], c.stride, c.pad);
        return [y0, ...tf.grads(f)([x, w, b]), ...tf.grads(g)([x, w]), t];
      };
      process.env['VOXSEG_CONV_TRAIN_LAYOUT'] = 'ndhwc';
      const old = runOn('native', fn);
      process.env['VOXSEG_CONV_TRAIN_LAYOUT'] = 'blocked';
      const blocked = runOn('native', fn);
      blocked.forEach((o, i) => expect(relError(o.data, old[i]!.data), `output ${i}`).toBeLessThanOrEqual(1e-5));
      delete process.env['VOXSEG_CONV_TRAIN_LAYOUT'];
      expectSameOnBoth(fn); // default layout choice against tfjs's own cpu kernels
      tf.dispose([x, w, b]);
    }
  });

  it('chooses blocked from 16 channels on both sides, GEMM filter gradients from 16^3 output voxels, unless forced', () => {
    const info = (cin: number, cout: number, edge = 4, stride = 1) => tf.backend_util.computeConv3DInfo([1, edge, edge, edge, cin], [3, 3, 3, cin, cout], stride, 1, 'same');
    expect(trainLayoutFor(info(4, 32))).toBe(0);
    expect(trainLayoutFor(info(32, 3), 'backwardData')).toBe(0);
    expect(trainLayoutFor(info(16, 16))).toBe(1);
    expect(trainLayoutFor(info(64, 32), 'backwardData')).toBe(1);
    expect(trainLayoutFor(info(64, 32), 'backwardFilter')).toBe(0); // 4^3 output voxels
    expect(trainLayoutFor(info(4, 32, 16), 'backwardFilter')).toBe(1); // 16^3, any channels
    expect(trainLayoutFor(info(4, 32, 32, 2), 'backwardFilter')).toBe(0); // stride 2: by channels
    expect(trainLayoutFor(info(32, 64, 32, 2), 'backwardFilter')).toBe(1);
    process.env['VOXSEG_CONV_TRAIN_LAYOUT'] = 'ndhwc';
    expect(trainLayoutFor(info(64, 32, 32), 'backwardFilter')).toBe(0);
    process.env['VOXSEG_CONV_TRAIN_LAYOUT'] = 'blocked';
    expect(trainLayoutFor(info(4, 32))).toBe(1);
  });

  it('names the blocked primitives it created, rejects a bad layout, and leaks no tensors', () => {
    const info = tf.backend_util.computeConv3DInfo([1, 4, 4, 4, 16], [3, 3, 3, 16, 16], 1, 1, 'same');
    const p = convParams(info);
    addon().conv3dForward(new Float32Array(1024), new Float32Array(27 * 256), new Float32Array(1024), p, 1);
    const impl = addon().conv3dImplInfo(p);
    expect(impl['blockedForward']).toMatch(/./);
    expect(impl['blockedForward']).not.toBe('none');
    expect(() => addon().conv3dForward(new Float32Array(1024), new Float32Array(27 * 256), new Float32Array(1024), p, 2)).toThrow(/conv3d layout: expected 0 \(channels-last\) or 1 \(blocked\), got 2/);
    process.env['VOXSEG_CONV_TRAIN_LAYOUT'] = 'blocked';
    const rng = new Rng('conv layout leak');
    const x = randn(rng, [2, 4, 4, 4, 16]);
    const w = randn(rng, [3, 3, 3, 16, 16]);
    const b = randn(rng, [16]);
    expectNoLeak(() => {
      const gs = tf.grads((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(nativeConv3dBias(a as tf.Tensor5D, ww as tf.Tensor5D, bb as tf.Tensor1D, 2, 'same')))([x, w, b]);
      tf.dispose(gs);
    });
    tf.dispose([x, w, b]);
  });
});

describe.skipIf(status.available)('native backend unavailable', () => {
  it('reports why and how to enable it', () => {
    console.warn(skipReason);
    expect(status.reason).toMatch(/libdnnl-dev|disabled|addon/);
  });
});
