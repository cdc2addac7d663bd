/**
 * The WGSL Conv3D kernels against tfjs's `cpu` backend (the reference): forward, gradient for
 * the input and for the filter, on odd sizes, strides, dilations, both paddings, and the
 * U-Net's 2x2x2 stride-2 transposed convolution both ways. Sizes are small: SwiftShader runs
 * WebGPU on the CPU in CI.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, runOn, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { registerConv3dTransposeGradient } from '@voxseg/plugin-unet';
import { setMaxBindingBytes } from './binding-split.js';
import { type ConvKernelChoice, depthSlabs, filterGradSplits, gemmTiles, setConvKernelChoice, usesDirectConv } from './conv3d-kernels.js';
import { directChannels } from './conv3d-direct.js';

// tfjs has no gradient for Conv3DBackpropInputV2 (conv3dTranspose); the U-Net plugin's.
registerConv3dTransposeGradient();

const status = await webgpuForTests();

interface Case {
  name: string;
  x: [number, number, number, number, number];
  filter: [number, number, number, number, number];
  strides: [number, number, number] | number;
  pad: 'same' | 'valid';
  dilations?: number;
}

const CASES: Case[] = [
  { name: '3x3x3 same, odd edges 7x5x6, 3->5 channels', x: [2, 7, 5, 6, 3], filter: [3, 3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3x3x3 stride 2 same (the encoder downsampling), 9x8x7, 4->6', x: [1, 9, 8, 7, 4], filter: [3, 3, 3, 4, 6], strides: 2, pad: 'same' },
  { name: '3x3x3 valid, strides (1,2,3), 8x9x10, 2->3', x: [1, 8, 9, 10, 2], filter: [3, 3, 3, 2, 3], strides: [1, 2, 3], pad: 'valid' },
  { name: '1x1x1 head, 5x6x7, 17->3', x: [2, 5, 6, 7, 17], filter: [1, 1, 1, 17, 3], strides: 1, pad: 'same' },
  { name: '2x3x1 kernel, 9x9x9, 3->70 (two column tiles)', x: [1, 9, 9, 9, 3], filter: [2, 3, 1, 3, 70], strides: 1, pad: 'same' },
];

/** Forward, grad input, grad filter of a weighted sum of the conv (weights vary per element). */
function convAndGrads(c: Case): () => tf.Tensor[] {
  return () => {
    const x = seeded(c.x, 1);
    const w = seeded(c.filter, 2);
    const conv = (xx: tf.Tensor, ww: tf.Tensor) => tf.conv3d(xx as tf.Tensor5D, ww as tf.Tensor5D, c.strides, c.pad, 'NDHWC', c.dilations ?? 1);
    const y = conv(x, w);
    const weights = seeded(y.shape, 3);
    const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(conv(xx, ww), weights)))([x, w]);
    return [y, dx!, dw!];
  };
}

describe.skipIf(!status.available)('Conv3D kernels on webgpu match cpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const cpu = await runOn('cpu', convAndGrads(c));
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      const gpu = await runOn('webgpu', convAndGrads(c));
      expect(tf.memory().numTensors).toBe(before);
      ['forward', 'grad input', 'grad filter'].forEach((what, i) => {
        expect(relError(gpu[i]!, cpu[i]!), what).toBeLessThan(1e-5);
      });
    });
  }

  // Channel counts on both sides of every tile boundary: the direct kernel's 4/8/16-channel
  // blocks (forward: Cout, grad input: Cin; above 16 the GEMM), the GEMM's 4/8/16/32/64-column
  // tiles, and the filter gradient's row tiles (27·Cin rows: 81, 108, 135, 216, 243, ... against
  // 64/128/256-row tiles).
  const BOUNDARY: [number, number][] = [[3, 5], [4, 4], [5, 8], [8, 9], [9, 16], [16, 17], [17, 31], [31, 33], [33, 63], [64, 65], [65, 3]];
  for (const [ci, co] of BOUNDARY) {
    it(`${ci} -> ${co} channels (tile boundaries), 3x3x3 'same' on 3x4x5, batch 2`, async () => {
      const c: Case = { name: '', x: [2, 3, 4, 5, ci], filter: [3, 3, 3, ci, co], strides: 1, pad: 'same' };
      const cpu = await runOn('cpu', convAndGrads(c));
      const gpu = await runOn('webgpu', convAndGrads(c));
      ['forward', 'grad input', 'grad filter'].forEach((what, i) => expect(relError(gpu[i]!, cpu[i]!), what).toBeLessThan(1e-5));
    });
  }

  // Both kinds of kernels on the cases, whatever the channel counts would choose: the direct
  // ones on every case, the GEMM on the three whose channels choose the direct kernels (the
  // other two run the GEMM already; each GEMM pipeline takes seconds to compile on SwiftShader).
  for (const kernel of ['gemm', 'direct'] as ConvKernelChoice[]) {
    it(`the ${kernel} kernels on ${kernel === 'gemm' ? 'the few-channel cases' : 'every case'} (all three convs), and no leaks`, async () => {
      setConvKernelChoice(kernel);
      try {
        for (const c of kernel === 'gemm' ? CASES.slice(0, 3) : CASES) {
          const cpu = await runOn('cpu', convAndGrads(c));
          await tf.setBackend('webgpu');
          const before = tf.memory().numTensors;
          const gpu = await runOn('webgpu', convAndGrads(c));
          expect(tf.memory().numTensors).toBe(before);
          ['forward', 'grad input', 'grad filter'].forEach((what, i) => expect(relError(gpu[i]!, cpu[i]!), `${c.name}: ${what}`).toBeLessThan(1e-5));
        }
      } finally {
        setConvKernelChoice('auto');
      }
    });
  }

  it('forward with dilation 2 (tfjs has no dilated Conv3D gradients)', async () => {
    const f = () => tf.conv3d(seeded([1, 9, 8, 7, 3], 7) as tf.Tensor5D, seeded([3, 2, 3, 3, 5], 8) as tf.Tensor5D, 1, 'same', 'NDHWC', 2);
    const cpu = await runOn('cpu', f);
    for (const kernel of ['direct', 'gemm'] as ConvKernelChoice[]) {
      setConvKernelChoice(kernel);
      try {
        const gpu = await runOn('webgpu', f);
        expect(relError(gpu[0]!, cpu[0]!), kernel).toBeLessThan(1e-5);
      } finally {
        setConvKernelChoice('auto');
      }
    }
  });

  it('the 2x2x2 stride-2 transposed conv of the decoder, both ways (16^3, 8 -> 4 channels)', async () => {
    const f = () => {
      const x = seeded([2, 8, 8, 8, 8], 4);
      const w = seeded([2, 2, 2, 4, 8], 5); // conv3dTranspose filter: [.., out, in]
      const up = (xx: tf.Tensor, ww: tf.Tensor) => tf.conv3dTranspose(xx as tf.Tensor5D, ww as tf.Tensor5D, [2, 16, 16, 16, 4], 2, 'same');
      const y = up(x, w);
      const weights = seeded(y.shape, 6);
      const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(up(xx, ww), weights)))([x, w]);
      return [y, dx!, dw!];
    };
    const cpu = await runOn('cpu', f);
    const gpu = await runOn('webgpu', f);
    ['transposed conv', 'its grad input (a stride-2 conv)', 'its grad filter'].forEach((what, i) => {
      expect(relError(gpu[i]!, cpu[i]!), what).toBeLessThan(1e-5);
    });
  });

  it('splits the filter gradient along K when the volume is large, and the sum is right', async () => {
    // 16^3 positions, 3 -> 4 channels: 108 rows, 4 columns, K = 4096 -> several slices.
    expect(filterGradSplits(108, 4, 4096)).toBeGreaterThan(1);
    const c: Case = { name: 'split', x: [1, 16, 16, 16, 3], filter: [3, 3, 3, 3, 4], strides: 1, pad: 'same' };
    const cpu = await runOn('cpu', convAndGrads(c));
    const gpu = await runOn('webgpu', convAndGrads(c));
    expect(relError(gpu[2]!, cpu[2]!)).toBeLessThan(1e-5);
  });

  // (The GEMM's shifted indexing is covered by its depth-slab runs below: the same shifts.)
  it('runs in batch pieces below a lowered binding limit: the same values as one piece, and cpu', async () => {
    // 3 samples of 5x6x7x8 floats (6.6 KiB each) against a 16 KiB cap: pieces of 2 and 1
    // samples, bound as sub-ranges at an unaligned offset (1680 floats).
    const c: Case = { name: 'pieces', x: [3, 5, 6, 7, 8], filter: [3, 3, 3, 8, 8], strides: 1, pad: 'same' };
    const whole = await runOn('webgpu', convAndGrads(c));
    setMaxBindingBytes(16 * 1024);
    try {
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      const split = await runOn('webgpu', convAndGrads(c));
      expect(tf.memory().numTensors).toBe(before);
      // Forward and grad input compute each output in the same order: identical bits.
      expect(relError(split[0]!, whole[0]!, 1e-30), 'forward').toBe(0);
      expect(relError(split[1]!, whole[1]!, 1e-30), 'grad input').toBe(0);
      // The filter gradient sums the pieces' partial gradients: a different order.
      expect(relError(split[2]!, whole[2]!), 'grad filter').toBeLessThan(1e-5);
      const cpu = await runOn('cpu', convAndGrads(c));
      ['forward', 'grad input', 'grad filter'].forEach((what, i) => expect(relError(split[i]!, cpu[i]!), what).toBeLessThan(1e-5));
    } finally {
      setMaxBindingBytes(undefined);
    }
  });

  // One sample above the (lowered) 16 KiB cap: each sample runs in depth slabs. Odd sizes,
  // strides 1 and 2, kernels 1 and 3, and the decoder's 2x2x2 stride-2 transposed conv.
  const SLAB_CASES: { name: string; f: () => tf.Tensor[] }[] = [
    // The filter must fit the cap itself (every program refuses a larger binding): 16->8 is 13.5 KiB.
    { name: '3x3x3 same stride 1, 7x5x9, 16->8', f: convAndGrads({ name: '', x: [1, 7, 5, 9, 16], filter: [3, 3, 3, 16, 8], strides: 1, pad: 'same' }) },
    { name: '3x3x3 same stride 2, 2 samples of 7x5x9, 16->8', f: convAndGrads({ name: '', x: [2, 7, 5, 9, 16], filter: [3, 3, 3, 16, 8], strides: 2, pad: 'same' }) },
    { name: '3x3x3 valid strides (2,1,2), 9x5x7, 16->6', f: convAndGrads({ name: '', x: [1, 9, 5, 7, 16], filter: [3, 3, 3, 16, 6], strides: [2, 1, 2], pad: 'valid' }) },
    { name: '1x1x1 stride 1, 7x5x9, 16->16', f: convAndGrads({ name: '', x: [1, 7, 5, 9, 16], filter: [1, 1, 1, 16, 16], strides: 1, pad: 'same' }) },
    { name: '1x1x1 stride 2 valid (input-grad slabs with no dy plane), 7x5x9, 16->4', f: convAndGrads({ name: '', x: [1, 7, 5, 9, 16], filter: [1, 1, 1, 16, 4], strides: 2, pad: 'valid' }) },
    {
      name: '2x2x2 stride-2 transposed conv both ways, 4x3x5x8 -> 8x6x10x16',
      f: () => {
        const x = seeded([1, 4, 3, 5, 8], 4);
        const w = seeded([2, 2, 2, 16, 8], 5);
        const up = (xx: tf.Tensor, ww: tf.Tensor) => tf.conv3dTranspose(xx as tf.Tensor5D, ww as tf.Tensor5D, [1, 8, 6, 10, 16], 2, 'same');
        const y = up(x, w);
        const weights = seeded(y.shape, 6);
        const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(up(xx, ww), weights)))([x, w]);
        return [y, dx!, dw!];
      },
    },
  ];

  // Every case on the kernels its channels choose (direct up to 16 channels); the strided conv and
  // the transposed conv also on the GEMM (each GEMM pipeline takes seconds to compile on SwiftShader).
  const slabRuns = [
    ...SLAB_CASES.map((c) => ({ ...c, kernel: 'auto' as ConvKernelChoice })),
    ...[1, 5].map((i) => ({ ...SLAB_CASES[i]!, kernel: 'gemm' as ConvKernelChoice })),
  ];
  for (const c of slabRuns) {
    it(`one sample above a lowered binding limit runs in depth slabs (${c.kernel} kernel): ${c.name}`, async () => {
      setConvKernelChoice(c.kernel);
      const whole = await runOn('webgpu', c.f);
      setMaxBindingBytes(16 * 1024);
      try {
        await tf.setBackend('webgpu');
        const before = tf.memory().numTensors;
        const split = await runOn('webgpu', c.f);
        expect(tf.memory().numTensors).toBe(before);
        // Each slab sums the same terms per output in the same order: forward and grad input bit-identical.
        expect(relError(split[0]!, whole[0]!, 1e-30), 'forward').toBe(0);
        expect(relError(split[1]!, whole[1]!, 1e-30), 'grad input').toBe(0);
        // The filter gradient sums the slabs' partial gradients: another order.
        expect(relError(split[2]!, whole[2]!), 'grad filter').toBeLessThan(1e-5);
        const cpu = await runOn('cpu', c.f);
        ['forward', 'grad input', 'grad filter'].forEach((what, i) => expect(relError(split[i]!, cpu[i]!), what).toBeLessThan(1e-5));
      } finally {
        setMaxBindingBytes(undefined);
        setConvKernelChoice('auto');
      }
    });
  }

  it('one depth plane above the binding limit is one clear error', async () => {
    setMaxBindingBytes(16 * 1024);
    try {
      await tf.setBackend('webgpu');
      // One plane of 40x40x8 floats is 51200 bytes.
      const big = tf.zeros([1, 3, 40, 40, 8]);
      const w = tf.zeros([3, 3, 3, 8, 8]);
      expect(() => tf.conv3d(big as tf.Tensor5D, w as tf.Tensor5D, 1, 'same')).toThrow(/^Conv3D on webgpu: one depth plane's slab \(51200 bytes of rows/);
      tf.dispose([big, w]);
    } finally {
      setMaxBindingBytes(undefined);
    }
  });
});

describe('depth slabs of one sample', () => {
  const info = (x: number[], f: number[], s: number, pad: 'same' | 'valid') =>
    tf.backend_util.computeConv3DInfo(x as [number, number, number, number, number], f as [number, number, number, number, number], s, 1, pad);

  it('cover every row plane once, each with the input planes its taps reach (by hand)', () => {
    // 7 output planes of 5x9x16 = 720 floats, 3x3x3 'same': a slab of r planes reads r + 2
    // input planes (fewer at the volume's faces), 4032 floats hold 5 planes: 5 rows would read
    // [0,6) (6 planes), 4 rows fit: rows [0,4) read [0,5), rows [4,7) read [3,7).
    const fwd = depthSlabs(4032, 'Conv3D', info([1, 7, 5, 9, 16], [3, 3, 3, 16, 16], 1, 'same'), true);
    expect(fwd.map((s) => [s.r0, s.r1, s.a0, s.a1])).toEqual([[0, 4, 0, 5], [4, 7, 3, 7]]);
    // The front padding stays only where the slab touches the volume's front.
    expect(fwd.map((s) => s.info.padInfo.front)).toEqual([1, 0]);
    // Input gradient of the stride-2 'same' conv (front pad 1; rows 720 floats, dy planes 120):
    // 5 rows per slab; rows [0,5) need dy planes od = (id + 1 - kd) / 2 in [0, 2], rows [5,7) [2, 3].
    const ig = depthSlabs(4032, 'Conv3DBackpropInputV2', info([1, 7, 5, 9, 16], [3, 3, 3, 16, 8], 2, 'same'), false);
    expect(ig.map((s) => [s.r0, s.r1, s.a0, s.a1])).toEqual([[0, 5, 0, 3], [5, 7, 2, 4]]);
  });

  it('throws one line when one plane does not fit', () => {
    expect(() => depthSlabs(1000, 'Conv3D', info([1, 3, 40, 40, 8], [3, 3, 3, 8, 8], 1, 'same'), true)).toThrow(
      /^Conv3D on webgpu: one depth plane's slab \(51200 bytes of rows, 51200 bytes per plane/,
    );
  });
});

describe('GEMM tiling and the kernel choice', () => {
  it('uses 256 threads and at most 16 KiB of workgroup memory for every width and height', () => {
    for (const n of [1, 3, 4, 5, 8, 12, 16, 30, 32, 64, 320]) {
      for (const m of [1, 27, 64, 65, 81, 108, 128, 129, 216, 432, 8640, Infinity]) {
        const t = gemmTiles(n, m);
        expect(t.WX * t.WY).toBe(256);
        expect(t.TK * (t.TM + t.TN) * 4).toBeLessThanOrEqual(16384);
        expect(t.TN).toBeGreaterThanOrEqual(Math.min(n, 64));
        // The loaders need TM and TK to divide the thread count.
        expect(256 % t.TM).toBe(0);
        expect(256 % t.TK).toBe(0);
        // A short GEMM gets a short tile: less than half of it idle, unless it is one row per thread.
        expect(t.TM / 2 < m || t.RM === 1).toBe(true);
      }
    }
    // The filter gradient of a 4-channel 3x3x3 layer: 108 rows in one 128-row tile.
    expect(gemmTiles(4, 108).TM).toBe(128);
    expect(gemmTiles(4).TM).toBe(256);
  });

  it('runs forward and grad input as direct convolutions up to 16 channels, the GEMM above', () => {
    expect([1, 4, 5, 8, 9, 16].map(usesDirectConv)).toEqual([true, true, true, true, true, true]);
    expect([17, 32, 320].map(usesDirectConv)).toEqual([false, false, false]);
    expect([1, 3, 4, 5, 8, 9, 16].map(directChannels)).toEqual([4, 4, 4, 8, 8, 16, 16]);
  });
});
