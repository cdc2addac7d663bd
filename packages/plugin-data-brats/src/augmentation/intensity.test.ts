import { Rng, type Augmenter, type Sample } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import golden from './augment.golden.json' with { type: 'json' };
import { RandBrightnessAdditive } from './rand-brightness-additive.js';
import { RandBrightnessMultiplicative } from './rand-brightness-multiplicative.js';
import { adjustContrast, RandContrast } from './rand-contrast.js';
import { applyGamma, RandGamma, randGammaInvertedFactory } from './rand-gamma.js';
import { RandGaussianBlur } from './rand-gaussian-blur.js';
import { RandGaussianNoise } from './rand-gaussian-noise.js';
import { RandLowResolution } from './rand-low-resolution.js';
import { channelOf, goldenChannel, interleave, makeSample } from './__tests__/fixtures.js';
import type { Shape3 } from '@voxseg/core';

const clone = (s: Sample): Sample => ({ ...s, image: s.image.slice(), shape: [...s.shape], label: s.label?.slice() });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Every intensity augmenter, forced on (p = 1, every channel). */
const forced = (): Augmenter[] => [
  new RandGaussianNoise({ p: 1 }),
  new RandGaussianBlur({ p: 1, pPerChannel: 1 }),
  new RandBrightnessMultiplicative({ p: 1 }),
  new RandContrast({ p: 1 }),
  new RandLowResolution({ p: 1, pPerChannel: 1, zoomRange: [0.5, 0.7] }),
  new RandGamma({ p: 1, invertImage: true }),
  new RandBrightnessAdditive({ p: 1, pPerChannel: 1 }),
  new RandGamma({ p: 1 }),
];

describe('intensity augmenters', () => {
  it.each(forced().map((a) => [a.name, a] as const))('%s is deterministic for a seed, changes the image, never the label', (_name, aug) => {
    const base = makeSample();
    const a = clone(base), b = clone(base), c = clone(base);
    aug.apply!(a, new Rng(42));
    aug.apply!(b, new Rng(42));
    aug.apply!(c, new Rng(43));
    expect(aug.kind).toBe('intensity');
    expect(a.image).toEqual(b.image);
    expect(maxAbsDiff(a.image, base.image)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(a.image, c.image)).toBeGreaterThan(0);
    expect(a.label).toEqual(base.label);
    expect(a.image.every(Number.isFinite)).toBe(true);
  });

  it('respects the per-sample probability (2000 draws on a tiny patch)', () => {
    const cases: [Augmenter, number][] = [
      [new RandGaussianNoise(), 0.15],
      [new RandGaussianBlur({ pPerChannel: 1 }), 0.2],
      [new RandBrightnessMultiplicative(), 0.15],
      [new RandContrast(), 0.15],
      [new RandLowResolution({ pPerChannel: 1, zoomRange: [0.5, 0.5] }), 0.25],
      [randGammaInvertedFactory.create({}, undefined as never), 0.15],
      [new RandBrightnessAdditive({ pPerChannel: 1 }), 0.3],
      [new RandGamma(), 0.3],
    ];
    const n = 2000;
    for (const [aug, p] of cases) {
      const rng = new Rng(`prob:${aug.name}`);
      let changed = 0;
      for (let i = 0; i < n; i++) {
        const s = makeSample([3, 3, 4], 1);
        const before = s.image.slice();
        aug.apply!(s, rng);
        if (maxAbsDiff(s.image, before) > 0) changed++;
      }
      // 4.5 binomial standard deviations.
      expect(Math.abs(changed / n - p), aug.name).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('respects per-channel probabilities (blur, low resolution, additive brightness: 0.5)', () => {
    for (const aug of [new RandGaussianBlur({ p: 1 }), new RandLowResolution({ p: 1, zoomRange: [0.5, 0.5] }), new RandBrightnessAdditive({ p: 1 })]) {
      const rng = new Rng(`pc:${aug.name}`);
      let changed = 0, total = 0;
      for (let i = 0; i < 500; i++) {
        const s = makeSample([4, 4, 4], 4);
        const before = s.image.slice();
        aug.apply!(s, rng);
        for (let c = 0; c < 4; c++) {
          total++;
          if (maxAbsDiff(channelOf(s.image, 4, c), channelOf(before, 4, c)) > 0) changed++;
        }
      }
      expect(Math.abs(changed / total - 0.5), aug.name).toBeLessThan(4.5 * Math.sqrt(0.25 / total));
    }
  });

  it('gaussian noise has the drawn level as its standard deviation (batchgenerators semantics)', () => {
    const s = makeSample([20, 20, 20], 1);
    const before = s.image.slice();
    new RandGaussianNoise({ p: 1, noiseVariance: [0.05, 0.05] }).apply(s, new Rng(1));
    let s1 = 0, s2 = 0;
    for (let i = 0; i < before.length; i++) {
      const d = s.image[i]! - before[i]!;
      s1 += d;
      s2 += d * d;
    }
    const n = before.length;
    expect(Math.sqrt(s2 / n - (s1 / n) ** 2)).toBeCloseTo(0.05, 2);
  });

  it('multiplicative brightness multiplies each channel by one factor in range', () => {
    const s = makeSample([3, 3, 3], 2);
    const before = s.image.slice();
    new RandBrightnessMultiplicative({ p: 1 }).apply(s, new Rng(9));
    for (let c = 0; c < 2; c++) {
      const ratio = s.image[c]! / before[c]!;
      expect(ratio).toBeGreaterThanOrEqual(0.7);
      expect(ratio).toBeLessThanOrEqual(1.3);
      for (let i = c; i < before.length; i += 2) expect(s.image[i]!).toBeCloseTo(before[i]! * ratio, 5);
    }
  });

  it('additive brightness adds one offset per channel', () => {
    const s = makeSample([3, 3, 3], 2);
    const before = s.image.slice();
    new RandBrightnessAdditive({ p: 1, pPerChannel: 1 }).apply(s, new Rng(9));
    for (let c = 0; c < 2; c++) {
      const off = s.image[c]! - before[c]!;
      for (let i = c; i < before.length; i += 2) expect(s.image[i]! - before[i]!).toBeCloseTo(off, 5);
    }
  });
});

describe('gamma and contrast against numpy (scripts/golden_augment.py)', () => {
  const shape = golden.shape as Shape3;
  it('applyGamma matches batchgenerators augment_gamma (plain, inverted, retain stats or not)', () => {
    for (const g of golden.gamma) {
      // Channel 1 of a two-channel image: checks the channels-last striding too.
      const img = interleave([goldenChannel(shape, 3), goldenChannel(shape, 0)]);
      applyGamma(img, 2, 1, g.gamma, { invertImage: g.invert, retainStats: g.retainStats, epsilon: 1e-7 });
      expect(maxAbsDiff(channelOf(img, 2, 1), g.values), JSON.stringify({ gamma: g.gamma, invert: g.invert })).toBeLessThan(2e-5);
      expect(channelOf(img, 2, 0)).toEqual(goldenChannel(shape, 3));
    }
  });

  it('applyGamma on a large channel (interpolated power table) stays within 1e-5 of the exact formula', () => {
    const n = 64 * 64 * 64;
    const img = new Float32Array(n);
    const rng = new Rng(12);
    for (let i = 0; i < n; i++) img[i] = rng.normal(0, 1.5);
    for (const g of [0.5, 0.77, 1.6]) {
      const x = img.slice();
      applyGamma(x, 1, 0, g, { invertImage: false, retainStats: false, epsilon: 1e-7 });
      let lo = Infinity, hi = -Infinity;
      for (const v of img) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const r = hi - lo + 1e-7;
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i]! - (Math.pow((img[i]! - lo) / r, g) * r + lo)));
      expect(err).toBeLessThan(1e-5 * r);
    }
  });

  it('adjustContrast matches batchgenerators augment_contrast', () => {
    for (const g of golden.contrast) {
      const img = goldenChannel(shape, 0);
      adjustContrast(img, 1, 0, g.factor, g.preserveRange);
      expect(maxAbsDiff(img, g.values)).toBeLessThan(1e-5);
    }
  });

  it('gamma retains mean and std; contrast with preserved range stays within [min, max]', () => {
    const s = makeSample([8, 8, 8], 1);
    const stats = (x: Float32Array) => {
      const m = x.reduce((a, v) => a + v, 0) / x.length;
      return [m, Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / x.length)];
    };
    const [m0, s0] = stats(s.image);
    new RandGamma({ p: 1 }).apply(s, new Rng(3));
    const [m1, s1] = stats(s.image);
    expect(m1).toBeCloseTo(m0!, 4);
    expect(s1).toBeCloseTo(s0!, 4);
    const t = makeSample([8, 8, 8], 1);
    const lo = Math.min(...t.image), hi = Math.max(...t.image);
    new RandContrast({ p: 1, contrastRange: [1.5, 1.5] }).apply(t, new Rng(3));
    expect(Math.min(...t.image)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...t.image)).toBeLessThanOrEqual(hi);
  });
});

describe('options', () => {
  it('reject bad values with a message naming the augmenter and option', () => {
    expect(() => new RandGamma({ p: 2 })).toThrow(/RandGamma: option p must be a probability/);
    expect(() => new RandContrast({ contrastRange: [1.5, 0.5] })).toThrow(/RandContrast: option contrastRange/);
    expect(() => new RandLowResolution({ zoomRange: [0, 1] })).toThrow(/RandLowResolution: option zoomRange must be positive/);
    expect(() => new RandBrightnessAdditive({ sigma: -1 })).toThrow(/RandBrightnessAdditive: option sigma/);
  });
});
