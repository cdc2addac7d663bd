import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

// Golden streams from an independent Python implementation of the seeding and of the
// published xoshiro128** algorithm: packages/core/scripts/golden_rng.py (output committed).
const golden = JSON.parse(readFileSync(new URL('./rng.golden.json', import.meta.url), 'utf8')) as {
  streams: { seed: number | string; uint32: number[] }[];
  next_seed7: number[];
};

const draw = (rng: Rng, n: number, f: (r: Rng) => number = (r) => r.nextUint32()) => Array.from({ length: n }, () => f(rng));

describe('Rng', () => {
  it.each(golden.streams)('matches the reference xoshiro128** stream for seed $seed', ({ seed, uint32 }) => {
    expect(draw(new Rng(seed), uint32.length)).toEqual(uint32);
  });

  it('next() is uint32 / 2^32 (golden), always in [0, 1)', () => {
    expect(draw(new Rng(7), 4, (r) => r.next())).toEqual(golden.next_seed7);
    const r = new Rng(3);
    for (let i = 0; i < 10_000; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  it('same seed, same stream; different seeds, different streams', () => {
    expect(draw(new Rng(123), 16)).toEqual(draw(new Rng(123), 16));
    expect(draw(new Rng(123), 16)).not.toEqual(draw(new Rng(124), 16));
    expect(draw(new Rng('fold-0'), 4)).not.toEqual(draw(new Rng('fold-1'), 4));
  });

  it('reseed restarts the stream and drops the cached normal', () => {
    const r = new Rng(5);
    const first = [r.normal(), ...draw(r, 3)];
    r.normal(); // leaves a spare normal cached
    r.reseed(5);
    expect([r.normal(), ...draw(r, 3)]).toEqual(first);
  });

  it('int, uniform, bool, choice stay in range and reject bad arguments', () => {
    const r = new Rng(11);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[r.int(6)]!++;
    // each face within 5 binomial standard deviations (sd ~ 28.9) of 1000
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(145);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(-2, 3);
      expect(u >= -2 && u < 3).toBe(true);
    }
    expect(draw(r, 100, (x) => Number(x.bool(0)))).toEqual(new Array(100).fill(0));
    expect(draw(r, 100, (x) => Number(x.bool(1)))).toEqual(new Array(100).fill(1));
    expect(['a', 'b', 'c']).toContain(r.choice(['a', 'b', 'c']));
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.choice([])).toThrow('Rng.choice: empty list');
  });

  it('normal() has the requested mean and standard deviation', () => {
    const r = new Rng(2021);
    const n = 20_000;
    const xs = draw(r, n, (x) => x.normal(3, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    // standard error of the mean: 2/sqrt(20000) = 0.014; of the sd: ~0.01
    expect(Math.abs(mean - 3)).toBeLessThan(0.06);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
  });

  it('shuffle is a seeded permutation', () => {
    const a = new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i));
    const b = new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('fork gives a reproducible child stream distinct from the parent', () => {
    const p1 = new Rng(77);
    const p2 = new Rng(77);
    const c1 = p1.fork();
    const c2 = p2.fork();
    expect(draw(c1, 8)).toEqual(draw(c2, 8));
    expect(draw(p1, 8)).toEqual(draw(p2, 8));
    expect(draw(new Rng(77).fork(), 8)).not.toEqual(draw(new Rng(77), 8));
  });

  it('state round-trips through JSON, including a cached normal deviate', () => {
    const r = new Rng(99);
    draw(r, 5);
    r.normal(); // caches the second deviate of the pair
    const saved = JSON.parse(JSON.stringify(r.getState()));
    expect(saved.spareNormal).not.toBeNull();
    const expected = [r.normal(), ...draw(r, 6)];
    const restored = Rng.fromState(saved);
    expect([restored.normal(), ...draw(restored, 6)]).toEqual(expected);
    const other = new Rng(1);
    other.setState(saved);
    expect(other.getState()).toEqual(saved);
  });
});
