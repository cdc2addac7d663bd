import { Experiment, Rng } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { augmenterFactories } from './index.js';
import { DA4_ORDER, da4Pipeline } from './da4.js';
import type { RandGamma } from './rand-gamma.js';
import { makeSample } from './__tests__/fixtures.js';

describe('da4Pipeline', () => {
  it('lists the DA4 transforms in docs/method.md order with docs/method.md probabilities', () => {
    const p = da4Pipeline();
    expect(p.map((a) => a.name)).toEqual([...DA4_ORDER]);
    const probs = p.map((a) => (a as unknown as { options: { p?: number } }).options.p);
    expect(probs).toEqual([0.3, 0.3, 0.3, 0.15, 0.2, 0.15, 0.15, 0.25, 0.15, 0.3, 0.3, undefined]);
    expect((p[8] as RandGamma).options.invertImage).toBe(true);
    expect((p[10] as RandGamma).options.invertImage).toBe(false);
    expect(p.slice(0, 3).every((a) => a.transformGrid && a.kind === 'spatial')).toBe(true);
    expect(p.slice(3, 11).every((a) => a.apply && a.kind === 'intensity')).toBe(true);
  });

  it('takes per-augmenter overrides and a global p', () => {
    const p = da4Pipeline({ p: 1, RandGamma: { gammaRange: [0.9, 1.1] } });
    expect(p.slice(0, 11).every((a) => (a as unknown as { options: { p: number } }).options.p === 1)).toBe(true);
    expect((p[10] as RandGamma).options.gammaRange).toEqual([0.9, 1.1]);
    // Fresh instances every call.
    expect(da4Pipeline()[0]).not.toBe(da4Pipeline()[0]);
  });

  it('registers one factory per augmenter name; factories create working augmenters with their defaults', () => {
    const names = augmenterFactories.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...DA4_ORDER].sort());
    const exp = new Experiment();
    for (const f of augmenterFactories) {
      exp.registry('augmenter').register(f);
      const aug = f.create({ ...f.defaults }, exp);
      expect(aug.name).toBe(f.name);
      const s = makeSample([4, 4, 4], 2);
      if (aug.apply) aug.apply(s, new Rng(1));
      expect(s.image.every(Number.isFinite)).toBe(true);
    }
    expect(exp.get('augmenter', 'RandGammaInverted').defaults).toMatchObject({ p: 0.15, invertImage: true });
  });
});

describe('augmenter specs', () => {
  it('rebuild the DA4 preset from plain data and reject unknown names', async () => {
    const { augmentersFromSpecs, da4Specs } = await import('./augmenter-specs.js');
    const fromSpecs = augmentersFromSpecs(da4Specs(), augmenterFactories);
    const direct = da4Pipeline();
    expect(fromSpecs.map((a) => a.name)).toEqual(direct.map((a) => a.name));
    expect(fromSpecs.map((a) => (a as unknown as { options: unknown }).options)).toEqual(direct.map((a) => (a as unknown as { options: unknown }).options));
    const s1 = makeSample([6, 6, 6], 2), s2 = makeSample([6, 6, 6], 2);
    const r1 = new Rng(3), r2 = new Rng(3);
    for (const a of fromSpecs) a.apply?.(s1, r1);
    for (const a of direct) a.apply?.(s2, r2);
    expect(s1).toEqual(s2);
    expect(augmentersFromSpecs([{ name: 'RandGamma', options: { p: 1 } }], augmenterFactories)[0]).toMatchObject({ options: { p: 1, gammaRange: [0.5, 1.6] } });
    expect(() => augmentersFromSpecs([{ name: 'RandNope' }], augmenterFactories)).toThrow(/augmentation\[0\]: unknown augmenter "RandNope"; known: RandRotate/);
  });
});
