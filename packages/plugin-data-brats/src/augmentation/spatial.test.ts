import { Rng, type Augmenter, type SamplingGrid } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { PatchSampler } from '../sampling/patch-sampler.js';
import { createIdentityGrid } from '../sampling/sampling-grid.js';
import { RandMirror } from './rand-mirror.js';
import { RandElastic } from './rand-elastic.js';
import { RandRotate, rotationMatrix } from './rand-rotate.js';
import { RandScale } from './rand-scale.js';
import { makeCase, makeSample } from './__tests__/fixtures.js';

const gridOf = (n = 8): SamplingGrid => createIdentityGrid([n, n, n]);
const changedGrid = (a: SamplingGrid, b: SamplingGrid) => a.d.some((v, i) => v !== b.d[i] || a.h[i] !== b.h[i] || a.w[i] !== b.w[i]);

describe('grid augmenters', () => {
  const forced: Augmenter[] = [new RandRotate({ p: 1 }), new RandScale({ p: 1 }), new RandElastic({ p: 1, deformationScale: [0.1, 0.25] })];

  it.each(forced.map((a) => [a.name, a] as const))('%s is deterministic for a seed and changes the grid', (_n, aug) => {
    const a = gridOf(), b = gridOf(), c = gridOf();
    aug.transformGrid!(a, new Rng(1));
    aug.transformGrid!(b, new Rng(1));
    aug.transformGrid!(c, new Rng(2));
    expect(aug.kind).toBe('spatial');
    expect(a).toEqual(b);
    expect(changedGrid(a, gridOf())).toBe(true);
    expect(changedGrid(a, c)).toBe(true);
  });

  it('respect the per-sample probability p (rotation 0.3, scaling 0.3, elastic 0.3)', () => {
    for (const aug of [new RandRotate(), new RandScale(), new RandElastic({ deformationScale: [0.2, 0.25] })]) {
      const rng = new Rng(`p:${aug.name}`);
      let changed = 0;
      const n = 1000;
      for (let i = 0; i < n; i++) {
        const g = createIdentityGrid([3, 3, 3]);
        aug.transformGrid!(g, rng);
        if (changedGrid(g, createIdentityGrid([3, 3, 3]))) changed++;
      }
      expect(Math.abs(changed / n - 0.3), aug.name).toBeLessThan(4.5 * Math.sqrt(0.21 / n));
    }
  });

  it('rotation is an isometry about the patch centre with angles within +-90 degrees', () => {
    const g = gridOf();
    new RandRotate({ p: 1 }).transformGrid(g, new Rng(5));
    const id = gridOf();
    for (let i = 0; i < g.d.length; i++) {
      const r0 = Math.hypot(id.d[i]!, id.h[i]!, id.w[i]!);
      const r1 = Math.hypot(g.d[i]!, g.h[i]!, g.w[i]!);
      expect(r1).toBeCloseTo(r0, 4);
    }
    // R_D(90 deg) maps (h, w) = (0, 1) to (-1, 0).
    const m = rotationMatrix(Math.PI / 2, 0, 0);
    expect([m[1 * 3 + 2], m[2 * 3 + 2]].map((v) => Math.round(v!))).toEqual([-1, 0]);
  });

  it('scaling draws half of its factors below 1, within [0.65, 1.6], independent per axis about 30% of the time', () => {
    const rng = new Rng(8);
    let below = 0, independent = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const g = createIdentityGrid([2, 2, 2]);
      new RandScale({ p: 1 }).transformGrid(g, rng);
      // Corner 7 of a 2^3 grid sits at (+0.5, +0.5, +0.5): twice its coordinates are the factors.
      const f = [g.d[7]! * 2, g.h[7]! * 2, g.w[7]! * 2];
      for (const v of f) {
        expect(v).toBeGreaterThanOrEqual(0.65 - 1e-6);
        expect(v).toBeLessThanOrEqual(1.6 + 1e-6);
      }
      if (f[0]! < 1) below++;
      if (f[0] !== f[1] || f[1] !== f[2]) independent++;
    }
    expect(Math.abs(below / n - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(independent / n - 0.3)).toBeLessThan(0.05);
  });

  it('elastic displacements are smooth, zero-mean and bounded by half the sigma', () => {
    const n = 32;
    const g = gridOf(n);
    new RandElastic({ p: 1, deformationScale: [0.25, 0.25] }).transformGrid(g, new Rng(3));
    const id = gridOf(n);
    const sigma = 0.25 * n;
    let mean = 0, maxD = 0, maxStep = 0;
    for (let i = 0; i < g.d.length; i++) {
      const dd = g.d[i]! - id.d[i]!;
      mean += dd;
      maxD = Math.max(maxD, Math.abs(dd));
      if (i % n !== n - 1) maxStep = Math.max(maxStep, Math.abs(g.d[i + 1]! - id.d[i + 1]! - dd));
    }
    expect(Math.abs(mean / g.d.length)).toBeLessThan(1e-4);
    expect(maxD).toBeGreaterThan(sigma / 8 * 0.5);
    expect(maxD).toBeLessThanOrEqual(sigma / 2 * 2 + 1e-4);
    // Smooth: neighbouring displacements differ by a small fraction of the magnitude.
    expect(maxStep).toBeLessThan(maxD * 0.3);
  });
});

describe('RandMirror', () => {
  it('flips image and label together; flipping twice restores them', () => {
    const s = makeSample([3, 4, 5], 2);
    const orig = { image: s.image.slice(), label: s.label!.slice() };
    const m = new RandMirror({ pPerAxis: 1 });
    m.apply(s, new Rng(1));
    // Voxel (0,0,0) now holds the original (2,3,4).
    const last = (2 * 4 + 3) * 5 + 4;
    expect(s.label![0]).toBe(orig.label[last]);
    expect(s.image[0]).toBe(orig.image[last * 2]);
    expect(s.image[1]).toBe(orig.image[last * 2 + 1]);
    m.apply(s, new Rng(1));
    expect(s.image).toEqual(orig.image);
    expect(s.label).toEqual(orig.label);
  });

  it('flips each axis with probability 0.5', () => {
    const rng = new Rng(4);
    const counts = [0, 0, 0];
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const s = makeSample([2, 2, 2], 1);
      new RandMirror().apply(s, rng);
      // Decode from the image: value at 0 came from index k = 4*fd + 2*fh + fw.
      const src = makeSample([2, 2, 2], 1).image.indexOf(s.image[0]!);
      counts[0] += (src >> 2) & 1;
      counts[1] += (src >> 1) & 1;
      counts[2] += src & 1;
    }
    for (const c of counts) expect(Math.abs(c / n - 0.5)).toBeLessThan(4.5 * Math.sqrt(0.25 / n));
  });
});

describe('spatial alignment through the sampler', () => {
  // Image channel 0 equals the label; big homogeneous boxes so that most voxels interpolate exactly.
  const c = makeCase([40, 40, 40], 'align', [
    { start: [5, 5, 5], end: [25, 30, 20], value: 2 },
    { start: [10, 10, 10], end: [20, 20, 18], value: 1 },
    { start: [22, 12, 22], end: [35, 30, 36], value: 4 },
  ]);

  function checkAligned(augmenters: Augmenter[], seed: number, exact: boolean) {
    const sampler = new PatchSampler([c], { patchSize: [24, 24, 24], augmenters });
    const { sample } = sampler.sample(new Rng(seed), true);
    let agree = 0, contradict = 0;
    for (let i = 0; i < sample.label!.length; i++) {
      const v = sample.image[i * 2]!;
      const l = sample.label![i]!;
      if (Math.abs(v - l) < 1e-4) agree++;
      else if ([0, 1, 2, 4].some((k) => Math.abs(v - k) < 1e-4)) contradict++;
      else if (exact) contradict++;
    }
    return { agree, contradict, n: sample.label!.length };
  }

  it('exact 90-degree rotations and mirroring move image and label identically', () => {
    const r = checkAligned([new RandRotate({ p: 1, angleRange: [90, 90] }), new RandMirror()], 7, true);
    expect(r.contradict).toBe(0);
    expect(r.agree).toBe(r.n);
  });

  it('random rotation, scaling and elastic deformation keep the label on the image', () => {
    for (const seed of [1, 2, 3]) {
      const r = checkAligned([new RandRotate({ p: 1 }), new RandScale({ p: 1 }), new RandElastic({ p: 1 }), new RandMirror()], seed, false);
      // Where the trilinear image is exactly a class value (homogeneous neighbourhood), the
      // nearest-neighbour label must be that class.
      expect(r.contradict).toBe(0);
      expect(r.agree / r.n).toBeGreaterThan(0.5);
    }
  });
});
