import { describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import type { Shape3 } from '../volume/types.js';
import { squaredDistanceTransform } from './distance-transform.js';
import { metricFactories } from './factories.js';
import { gridDiagonal, hd95, surfaceDistances } from './hausdorff.js';
import golden from './metrics.golden.json' with { type: 'json' };
import { dice, sensitivity, specificity } from './overlap.js';
import { percentile } from './percentile.js';
import { evaluateRegions, regionMask } from './regions.js';

// The BraTS regions (the plugin's BRATS_REGIONS), here as test data for the generic code.
const BRATS_REGIONS = [{ name: 'WT', labels: [1, 2, 4] }, { name: 'TC', labels: [1, 4] }, { name: 'ET', labels: [4] }];
import { surfaceMask } from './surface.js';

// Golden values: packages/core/scripts/golden_metrics.py (medpy's definitions on scipy 1.10 /
// numpy 1.24, nnU-Net's BraTS empty-mask conventions), committed as metrics.golden.json.

const decode = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0) - 48);
const sorted = (a: Float64Array) => Array.from(a).sort((x, y) => x - y);

/** Relative-or-absolute closeness: golden values come from float64 code with other summation orders. */
function expectClose(actual: number, expected: number, tol = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

describe('metrics on masks (golden: medpy definitions via scipy)', () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const shape = c.shape as Shape3;
      const spacing = c.spacing as Shape3;
      const p = decode(c.pred);
      const r = decode(c.ref);
      expectClose(dice(p, r), c.dice);
      expectClose(sensitivity(p, r), c.sensitivity);
      expectClose(specificity(p, r), c.specificity);
      expectClose(hd95(p, r, shape, spacing, { oneEmpty: golden.oneEmpty }), c.hd95);
      if (c.predToRef && c.refToPred) {
        const pr = sorted(surfaceDistances(p, r, shape, spacing));
        const rp = sorted(surfaceDistances(r, p, shape, spacing));
        expect(pr).toHaveLength(c.predToRef.length);
        expect(rp).toHaveLength(c.refToPred.length);
        pr.forEach((v, i) => expectClose(v, c.predToRef![i]!));
        rp.forEach((v, i) => expectClose(v, c.refToPred![i]!));
      }
    });
  }

  it('without a one-empty value, uses the diagonal of the grid (373.1287 mm for BraTS 240x240x155)', () => {
    expect(gridDiagonal([155, 240, 240])).toBeCloseTo(golden.oneEmpty, 4);
    const one = new Uint8Array(8);
    one[0] = 1;
    expect(hd95(one, new Uint8Array(8), [2, 2, 2], [1, 2, 3])).toBeCloseTo(Math.hypot(2, 4, 6), 12);
  });
});

describe('percentile (golden: numpy.percentile, linear)', () => {
  for (const g of golden.percentiles) {
    it(`q=${g.q} of ${g.values.length} values`, () => {
      // Exact equality: numpy's two-sided lerp is reproduced bit for bit.
      expect(percentile(g.values, g.q)).toBe(g.expected);
    });
  }
});

describe('squaredDistanceTransform', () => {
  it('equals brute force on random sparse masks with anisotropic spacing', () => {
    const rng = new Rng(42);
    for (const [shape, spacing, density] of [
      [[7, 9, 11], [1.7, 0.6, 1.1], 0.02],
      [[5, 1, 13], [1, 1, 1], 0.1],
      [[12, 6, 4], [0.5, 2.0, 3.0], 0.005],
    ] as [Shape3, Shape3, number][]) {
      const [D, H, W] = shape;
      const n = D * H * W;
      const mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) mask[i] = rng.bool(density) ? 1 : 0;
      mask[rng.int(n)] = 1; // at least one feature
      const dt = squaredDistanceTransform(mask, shape, spacing);
      const feats: number[][] = [];
      for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (mask[(z * H + y) * W + x]) feats.push([z, y, x]);
      for (let z = 0; z < D; z++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            let best = Infinity;
            for (const [fz, fy, fx] of feats) {
              const d = ((z - fz!) * spacing[0]) ** 2 + ((y - fy!) * spacing[1]) ** 2 + ((x - fx!) * spacing[2]) ** 2;
              if (d < best) best = d;
            }
            expectClose(dt[(z * H + y) * W + x]!, best);
          }
    }
  });

  it('is Infinity everywhere without features', () => {
    const dt = squaredDistanceTransform(new Uint8Array(24), [2, 3, 4], [1, 1, 1]);
    expect(Array.from(dt).every((v) => v === Infinity)).toBe(true);
  });
});

describe('surfaceMask', () => {
  it('keeps a 3x3x3 cube without its centre; outside the array is background', () => {
    // A full array: every voxel on a face of the array is surface; only the centre is not.
    const s = surfaceMask(new Uint8Array(27).fill(1), [3, 3, 3]);
    expect(Array.from(s).filter((v) => v === 1)).toHaveLength(26);
    expect(s[13]).toBe(0);
    const big: Shape3 = [5, 5, 5];
    const m = new Uint8Array(125);
    for (let z = 1; z < 4; z++) for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) m[(z * 5 + y) * 5 + x] = 1;
    const s2 = surfaceMask(m, big);
    expect(s2[(2 * 5 + 2) * 5 + 2]).toBe(0);
    expect(Array.from(s2).filter((v) => v === 1)).toHaveLength(26);
  });
});

describe('evaluateRegions (golden: BraTS regions on label volumes)', () => {
  it('scores WT, TC, ET from labels 0/1/2/4', () => {
    const g = golden.labels;
    const shape = g.shape as Shape3;
    // Float32 labels: BraTS seg files are sometimes stored as floats.
    const pred = Float32Array.from(decode(g.pred));
    const ref = Int16Array.from(decode(g.ref));
    const scores = evaluateRegions(pred, ref, shape, g.spacing as Shape3, { regions: BRATS_REGIONS, hd95OneEmpty: golden.oneEmpty });
    expect(Object.keys(scores)).toEqual(['WT', 'TC', 'ET']);
    for (const name of ['WT', 'TC', 'ET'] as const) {
      const e = g.regions[name];
      const a = scores[name]!;
      expectClose(a.dice, e.dice);
      expectClose(a.hd95, e.hd95);
      expectClose(a.sensitivity, e.sensitivity);
      expectClose(a.specificity, e.specificity);
    }
  });

  it('regionMask maps label sets, including float-stored labels', () => {
    const labels = Float64Array.from([0, 1, 2, 4, 3, 4.0, 2.5, -1]);
    expect(Array.from(regionMask(labels, BRATS_REGIONS[0]!.labels))).toEqual([0, 1, 1, 1, 0, 1, 0, 0]);
    expect(Array.from(regionMask(labels, [4]))).toEqual([0, 0, 0, 1, 0, 1, 0, 0]);
    expect(Array.from(regionMask(labels, [2.5, -1]))).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('can skip HD95 and rejects a shape mismatch with one line', () => {
    const z = new Uint8Array(8);
    expect(evaluateRegions(z, z, [2, 2, 2], [1, 1, 1], { regions: BRATS_REGIONS, hd95: false }).ET!.hd95).toBeNaN();
    expect(() => evaluateRegions(z, new Uint8Array(9), [2, 2, 2], [1, 1, 1], { regions: BRATS_REGIONS })).toThrow(/reference 9, shape \[2,2,2\] needs 8/);
  });
});

describe('metric factories', () => {
  it('export dice, hd95, sensitivity, specificity with the right direction', () => {
    expect(metricFactories.map((f) => f.name)).toEqual(['dice', 'hd95', 'sensitivity', 'specificity']);
    const metrics = metricFactories.map((f) => f.create({}, undefined as never));
    expect(metrics.map((m) => m.higherIsBetter)).toEqual([true, false, true, true]);
    const c = golden.cases.find((x) => x.name === 'shifted boxes')!;
    const [d, h] = metrics.map((m) => m.compute(decode(c.pred), decode(c.ref), c.shape as Shape3, c.spacing as Shape3));
    expectClose(d!, c.dice);
    expectClose(h!, c.hd95);
  });

  it('hd95 rejects bad spacing and mismatched masks with one clear line', () => {
    const m = new Uint8Array(8).fill(1);
    expect(() => hd95(m, m, [2, 2, 2], [1, 0, 1])).toThrow(/hd95\(spacing\): need three positive voxel sizes/);
    expect(() => hd95(m, new Uint8Array(7), [2, 2, 2])).toThrow(/hd95\(reference\): mask has 7 voxels/);
  });
});
