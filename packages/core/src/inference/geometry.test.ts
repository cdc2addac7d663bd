import { describe, expect, it } from 'vitest';
import type { Shape3 } from '../volume/types.js';
import { gaussianImportanceMap } from './gaussian.js';
import golden from './inference.golden.json' with { type: 'json' };
import { slidingWindowSteps } from './steps.js';

// Golden values: packages/core/scripts/golden_inference.py (nnU-Net v1's definitions on
// scipy 1.10 / numpy 1.24), committed as inference.golden.json.

describe('slidingWindowSteps (golden: nnU-Net _compute_steps_for_sliding_window)', () => {
  for (const g of golden.steps) {
    it(`patch [${g.patch}] in [${g.size}] step ${g.stepFraction}`, () => {
      expect(slidingWindowSteps(g.patch as Shape3, g.size as Shape3, g.stepFraction)).toEqual(g.steps);
    });
  }

  it('rejects a volume smaller than the patch and a bad step', () => {
    expect(() => slidingWindowSteps([8, 8, 8], [8, 7, 8], 0.5)).toThrow(/volume size 7 is smaller than the patch 8 on axis 1/);
    expect(() => slidingWindowSteps([8, 8, 8], [8, 8, 8], 0)).toThrow(/stepFraction\): must be in \(0, 1\]/);
  });
});

describe('gaussianImportanceMap (golden: scipy gaussian_filter of a centre impulse)', () => {
  const close = (a: number, e: number) => expect(Math.abs(a - e)).toBeLessThanOrEqual(2e-7 * Math.abs(e) + 1e-45);

  for (const g of golden.gaussian) {
    it(`patch [${g.patch}] sigma scale ${g.sigmaScale}`, () => {
      const map = gaussianImportanceMap(g.patch as Shape3, g.sigmaScale);
      expect(map.length).toBe(g.values.length);
      map.forEach((v, i) => close(v, g.values[i]!));
      expect(Math.max(...map)).toBe(1);
    });
  }

  it('128^3: profile through the centre, sample points and minimum', () => {
    const map = gaussianImportanceMap([128, 128, 128]);
    const g = golden.gaussian128;
    const at = (z: number, y: number, x: number) => map[(z * 128 + y) * 128 + x]!;
    g.profileX.forEach((v, x) => close(at(64, 64, x), v));
    for (const p of g.points) close(at(p.at[0]!, p.at[1]!, p.at[2]!), p.value);
    let min = Infinity;
    for (const v of map) if (v < min) min = v;
    close(min, g.min);
  });
});
