import { describe, expect, it } from 'vitest';
import type { Sample } from '../contracts/augmenter.js';
import { createExperiment } from '../container/experiment.js';
import { Rng } from '../random/rng.js';
import { chance, defineAugmenter, optionChecks } from './define-augmenter.js';

interface ShiftOptions {
  p?: number;
  range?: readonly [number, number];
  invert?: boolean;
}

class RandShift extends defineAugmenter<ShiftOptions>({
  name: 'RandShift',
  kind: 'intensity',
  description: 'adds a random offset',
  defaults: { p: 0.5, range: [0, 1], invert: false },
  nameFor: (o) => (o.invert ? 'RandShiftInverted' : 'RandShift'),
  validate: (o, check) => {
    const range = check.range('range', o.range, 'non-negative');
    return { p: check.probability('p', o.p), range, invert: Boolean(o.invert) };
  },
}) {
  apply(sample: Sample, rng: Rng): void {
    if (!chance(rng, this.options.p)) return;
    const offset = rng.uniform(this.options.range[0], this.options.range[1]) * (this.options.invert ? -1 : 1);
    for (let i = 0; i < sample.image.length; i++) sample.image[i]! += offset;
  }
}

describe('defineAugmenter', () => {
  it('merges options over the defaults, validates them and names the instance', () => {
    const a = new RandShift({ p: 1 });
    expect(a).toMatchObject({ name: 'RandShift', kind: 'intensity', options: { p: 1, range: [0, 1], invert: false } });
    expect(new RandShift({ invert: true }).name).toBe('RandShiftInverted');
    expect(() => new RandShift({ p: 2 })).toThrow(new RangeError('RandShift: option p must be a probability in [0, 1], got 2'));
    expect(() => new RandShift({ range: [1, 0] })).toThrow('RandShift: option range must be [low, high] with low <= high, got [1,0]');
    // Errors name the instance: the inverted variant says so.
    expect(() => new RandShift({ invert: true, range: [-1, 0] })).toThrow('RandShiftInverted: option range must be >= 0, got [-1,0]');
  });

  it('gives the registry entry of the class, which an experiment registers and creates', () => {
    const factory = RandShift.factory();
    expect(factory).toMatchObject({ name: 'RandShift', description: 'adds a random offset', defaults: { p: 0.5, range: [0, 1], invert: false } });
    const exp = createExperiment({ plugins: [{ name: 'shift', version: '1.0.0', register: (ctx) => ctx.registerAugmenter(factory) }] });
    const f = exp.get('augmenter', 'RandShift');
    const aug = f.create({ ...f.defaults, p: 1 }, exp);
    expect(aug).toBeInstanceOf(RandShift);
    const sample: Sample = { image: new Float32Array(4), shape: [1, 2, 2], channels: 1 };
    aug.apply!(sample, new Rng(3));
    // The same draws as by hand: one for the gate, one for the offset.
    const rng = new Rng(3);
    expect(rng.next() < 1).toBe(true);
    expect(Array.from(sample.image)).toEqual(new Array(4).fill(Math.fround(rng.uniform(0, 1))));
  });

  it('chance draws exactly one number: p = 0 never fires, p = 1 always does', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const fired = [0, 1, 0.5].map((p) => chance(a, p));
    expect(fired.slice(0, 2)).toEqual([false, true]);
    b.next();
    b.next();
    expect(fired[2]).toBe(b.next() < 0.5);
    expect(a.next()).toBe(b.next());
    expect(() => optionChecks('X').probability('q', Number.NaN)).toThrow('X: option q must be a probability in [0, 1], got null');
    expect(() => optionChecks('X').range('r', [0, 1], 'positive')).toThrow('X: option r must be positive, got [0,1]');
    expect(optionChecks('X').range('r', [0, 1], 'non-negative')).toEqual([0, 1]);
    expect(() => optionChecks('X').invalid('axes', 'must list spatial axes', [3])).toThrow(new RangeError('X: option axes must list spatial axes, got [3]'));
  });
});
