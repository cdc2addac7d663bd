import { Rng, type Shape3 } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import golden from '../augmentation/augment.golden.json' with { type: 'json' };
import { da4Pipeline } from '../augmentation/da4.js';
import { goldenChannel, makeCase, testRegions } from '../augmentation/__tests__/fixtures.js';
import { buildForegroundIndex, isForegroundSample } from './foreground-index.js';
import { copyBox, sampleNearest, sampleTrilinear } from './interpolate.js';
import { batchRng, PatchBatchProvider } from './patch-batch-provider.js';
import { PatchSampler } from './patch-sampler.js';
import { createIdentityGrid } from './sampling-grid.js';

describe('interpolation', () => {
  it('trilinear sampling with zero padding matches scipy map_coordinates(order=1, mode=grid-constant)', () => {
    const shape = golden.shape as Shape3;
    const vol = goldenChannel(shape, 0);
    const pts = golden.trilinear.points as number[][];
    const grid = { shape: [pts.length, 1, 1] as Shape3, d: new Float32Array(pts.map((p) => p[0]!)), h: new Float32Array(pts.map((p) => p[1]!)), w: new Float32Array(pts.map((p) => p[2]!)) };
    const out = new Float32Array(pts.length);
    sampleTrilinear(vol, [...shape, 1], grid, [0, 0, 0], out);
    // The grid is float32, scipy's points float64: compare with a tolerance covering that rounding.
    for (let i = 0; i < pts.length; i++) expect(out[i]).toBeCloseTo(golden.trilinear.values[i]!, 4);
  });

  it('identity grid copies voxels exactly (all channels) and reads 0 / background outside', () => {
    const shape: Shape3 = [4, 5, 6];
    const n = 4 * 5 * 6;
    const img = new Float32Array(n * 3).map((_, i) => i * 0.5 - 7);
    const lab = new Uint8Array(n).map((_, i) => i % 5);
    const g = createIdentityGrid([2, 2, 2]);
    const out = new Float32Array(8 * 3);
    // Patch start (1, 2, 3): centre = start + (P - 1) / 2.
    sampleTrilinear(img, [4, 5, 6, 3], g, [1.5, 2.5, 3.5], out);
    const labOut = new Uint8Array(8);
    sampleNearest(lab, shape, g, [1.5, 2.5, 3.5], labOut);
    let o = 0;
    for (let d = 1; d < 3; d++) for (let h = 2; h < 4; h++) for (let w = 3; w < 5; w++, o++) {
      const v = (d * 5 + h) * 6 + w;
      expect([out[o * 3], out[o * 3 + 1], out[o * 3 + 2]]).toEqual([img[v * 3], img[v * 3 + 1], img[v * 3 + 2]]);
      expect(labOut[o]).toBe(lab[v]);
    }
    sampleTrilinear(img, [4, 5, 6, 3], g, [50, 50, 50], out);
    expect(out.every((v) => v === 0)).toBe(true);
    labOut.fill(9);
    sampleNearest(lab, shape, g, [-20, 0, 0], labOut);
    expect(labOut.every((v) => v === 0)).toBe(true);
  });
});

describe('copyBox (the untransformed-grid fast path)', () => {
  it('equals trilinear / nearest sampling on the identity grid, inside and across the border', () => {
    const shape: Shape3 = [5, 6, 7];
    const n = 5 * 6 * 7;
    const img = new Float32Array(n * 2).map((_, i) => Math.sin(i) * 3);
    const lab = new Uint8Array(n).map((_, i) => (i * 7) % 5);
    const P: Shape3 = [4, 3, 5];
    const g = createIdentityGrid(P);
    for (const start of [[0, 0, 0], [1, 2, 2], [-2, 4, -3], [3, -1, 5], [-9, 0, 0]] as Shape3[]) {
      const centre = start.map((s, a) => s + (P[a]! - 1) / 2) as Shape3;
      const a = new Float32Array(60 * 2), b = new Float32Array(60 * 2);
      sampleTrilinear(img, [...shape, 2], g, centre, a);
      copyBox(img, shape, 2, start, P, b);
      expect(b).toEqual(a);
      const la = new Uint8Array(60), lb = new Uint8Array(60).fill(9);
      sampleNearest(lab, shape, g, centre, la);
      copyBox(lab, shape, 1, start, P, lb);
      expect(lb).toEqual(la);
    }
  });
});

describe('foreground oversampling', () => {
  it('marks the last round(0.33 * batch) samples, at least one (nnU-Net get_do_oversample)', () => {
    const marks = (b: number) => Array.from({ length: b }, (_, i) => isForegroundSample(i, b));
    expect(marks(1)).toEqual([true]);
    expect(marks(2)).toEqual([false, true]);
    expect(marks(3)).toEqual([false, false, true]);
    expect(marks(6)).toEqual([false, false, false, false, true, true]);
    expect(marks(10)).toEqual([...Array(7).fill(false), true, true, true]);
    expect(marks(2).length).toBe(2);
    expect(isForegroundSample(1, 2, 0)).toBe(false);
  });

  it('indexes each foreground class once per case', () => {
    const lab = new Uint8Array([0, 2, 2, 0, 4, 1, 2, 0]);
    const idx = buildForegroundIndex(lab);
    expect(idx.classes).toEqual([1, 2, 4]);
    expect(idx.voxels.map((v) => Array.from(v))).toEqual([[5], [1, 2, 6], [4]]);
  });
});

describe('PatchSampler', () => {
  const big = makeCase([30, 32, 34], 'big', [
    { start: [20, 3, 4], end: [21, 4, 5], value: 1 }, // one voxel of class 1
    { start: [2, 20, 20], end: [12, 30, 30], value: 2 }, // 1000 voxels of class 2
  ]);

  it('centres foreground samples on a foreground voxel, choosing the class first (nnU-Net v1)', () => {
    const sampler = new PatchSampler([big], { patchSize: [8, 8, 8] });
    const rng = new Rng(1);
    let class1 = 0;
    const n = 400;
    for (let i = 0; i < n; i++) {
      const { sample, foreground } = sampler.sample(rng, true);
      expect(foreground).toBe(true);
      const centreLabel = sample.label![(4 * 8 + 4) * 8 + 4]!;
      expect(centreLabel).toBeGreaterThan(0);
      if (centreLabel === 1) class1++;
    }
    // One voxel of class 1 against 1000 of class 2: class-then-voxel picks it half the time.
    expect(Math.abs(class1 / n - 0.5)).toBeLessThan(4.5 * Math.sqrt(0.25 / n));
  });

  it('places random samples inside the volume, uniformly over positions', () => {
    const sampler = new PatchSampler([big], { patchSize: [8, 8, 8] });
    const rng = new Rng(2);
    let minStart = Infinity, maxStart = -Infinity;
    for (let i = 0; i < 300; i++) {
      const { centre } = sampler.chooseCentre(0, rng, false);
      for (let a = 0; a < 3; a++) {
        const start = centre[a]! - 3.5;
        expect(Number.isInteger(start)).toBe(true);
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start + 8).toBeLessThanOrEqual(big.shape[a]!);
        minStart = Math.min(minStart, start);
        maxStart = Math.max(maxStart, start);
      }
    }
    expect(minStart).toBe(0);
    expect(maxStart).toBe(34 - 8);
  });

  it('pads a case smaller than the patch with zeros and background, the case centred', () => {
    const small = makeCase([3, 4, 5], 'small', [{ start: [0, 0, 0], end: [3, 4, 5], value: 2 }]);
    const sampler = new PatchSampler([small], { patchSize: [6, 6, 6] });
    for (const fg of [false, true]) {
      const { sample } = sampler.sample(new Rng(3), fg);
      let inside = 0;
      for (let d = 0; d < 6; d++) for (let h = 0; h < 6; h++) for (let w = 0; w < 6; w++) {
        const i = (d * 6 + h) * 6 + w;
        if (sample.label![i] === 2) {
          inside++;
          expect(sample.image[i * 2]).toBe(2);
        } else {
          expect(sample.label![i]).toBe(0);
          expect(sample.image[i * 2]).toBe(0);
          expect(sample.image[i * 2 + 1]).toBe(0);
        }
      }
      if (fg) {
        // Centred on a case voxel: part of the case may fall outside the patch.
        expect(sample.label![(3 * 6 + 3) * 6 + 3]).toBe(2);
        expect(inside).toBeGreaterThan(0);
      } else {
        expect(inside).toBe(3 * 4 * 5);
        // Random sample: the case sits at offset floor((P - S) / 2) = (1, 1, 0).
        expect(sample.label![(1 * 6 + 1) * 6 + 0]).toBe(2);
        expect(sample.label![(0 * 6 + 1) * 6 + 0]).toBe(0);
      }
    }
  });

  it('falls back to a random patch for a case without foreground, and rejects bad input clearly', () => {
    const empty = makeCase([10, 10, 10], 'empty');
    const r = new PatchSampler([empty], { patchSize: [4, 4, 4] }).sample(new Rng(1), true);
    expect(r.foreground).toBe(false);
    expect(() => new PatchSampler([], { patchSize: [4, 4, 4] })).toThrow(/no cases/);
    expect(() => new PatchSampler([empty], { patchSize: [4, 0, 4] as Shape3 })).toThrow(/patchSize must be three positive integers/);
    const bad = { ...empty, label: new Uint8Array(5) };
    expect(() => new PatchSampler([bad], { patchSize: [4, 4, 4] })).toThrow(/case empty label has 5 values, expected 1000/);
  });
});

describe('PatchBatchProvider', () => {
  const cases = [
    makeCase([20, 22, 24], 'a', [{ start: [3, 3, 3], end: [6, 7, 8], value: 4 }, { start: [10, 10, 10], end: [14, 14, 14], value: 2 }]),
    makeCase([18, 20, 16], 'b', [{ start: [12, 2, 2], end: [15, 5, 9], value: 1 }]),
  ];
  const make = (augment: boolean) =>
    new PatchBatchProvider({ cases, targets: testRegions, patchSize: [8, 8, 8], batchSize: 2, seed: 5, augmenters: augment ? da4Pipeline() : [] });

  it('builds [N, D, H, W, C] images and [N, D, H, W, K] region targets; the last sample is centred on foreground', async () => {
    const p = make(false);
    expect(p.patchShape).toEqual([8, 8, 8, 2]);
    expect(p.targetChannels).toEqual(['WT', 'TC', 'ET']);
    for (let index = 0; index < 20; index++) {
      const b = await p.batch(index);
      expect(b.shape).toEqual([2, 8, 8, 8, 2]);
      expect(b.image.length).toBe(2 * 512 * 2);
      expect(b.target.length).toBe(2 * 512 * 3);
      expect(b.targetChannels).toBe(3);
      expect(b.caseIds.every((id) => id === 'a' || id === 'b')).toBe(true);
      // Sample 1 (the oversampled one): WT at patch voxel (4, 4, 4).
      const centre = 512 + (4 * 8 + 4) * 8 + 4;
      expect(b.target[centre * 3]).toBe(1);
      // Targets follow the label carried by image channel 0 (makeCase writes label values there).
      for (let v = 0; v < 1024; v++) {
        const lab = b.image[v * 2]!;
        expect(b.target[v * 3]).toBe(lab > 0 ? 1 : 0);
        expect(b.target[v * 3 + 2]).toBe(lab === 4 ? 1 : 0);
      }
    }
  });

  it('batch(index) is a pure function of (construction, index): any order, any instance', async () => {
    const p1 = make(true), p2 = make(true);
    const a3 = await p1.batch(3);
    const a1 = await p1.batch(1);
    const b1 = await p2.batch(1);
    const b3 = await p2.batch(3);
    expect(a1).toEqual(b1);
    expect(a3).toEqual(b3);
    expect(await p1.batch(3)).toEqual(a3);
    expect(a1.image).not.toEqual(a3.image);
    const other = new PatchBatchProvider({ cases, targets: testRegions, patchSize: [8, 8, 8], batchSize: 2, seed: 6, augmenters: da4Pipeline() });
    expect((await other.batch(1)).image).not.toEqual(a1.image);
  });

  it('gives every batch index its own 128-bit stream', () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const r = batchRng('run:train', i);
      firsts.add(`${r.nextUint32()},${r.nextUint32()}`);
      expect(batchRng('run:train', i).getState()).toEqual(batchRng('run:train', i).getState());
    }
    expect(firsts.size).toBe(2000);
    expect(batchRng('run:train', 0).getState()).not.toEqual(batchRng('run:val', 0).getState());
  });

  it('rejects bad arguments with a clear message', async () => {
    expect(() => new PatchBatchProvider({ cases, targets: testRegions, patchSize: [8, 8, 8], batchSize: 0, seed: 1 })).toThrow(/batchSize must be a positive integer/);
    await expect(make(false).batch(-1)).rejects.toThrow(/index must be a non-negative integer/);
  });
});
