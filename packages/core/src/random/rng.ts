/**
 * Seedable pseudo-random generator used for every random decision in voxseg (sampling,
 * augmentation, weight init, shuffling). `Math.random` is never used: the same seed gives
 * the same run, and the state can be saved in a checkpoint and restored on `--resume`.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna), 128-bit state, seeded through splitmix32 so
 * that small consecutive seeds give unrelated streams. Pure JS integer arithmetic, so the
 * stream is identical on every platform.
 */
export interface RngState {
  /** The four 32-bit words of the xoshiro128** state. */
  s: [number, number, number, number];
  /** A cached second normal deviate from the Box-Muller pair, or null. */
  spareNormal: number | null;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** @param seed any finite number; non-integers are hashed by their bits. */
  constructor(seed: number | string = 0) {
    this.reseed(seed);
  }

  reseed(seed: number | string): void {
    const base = typeof seed === 'string' ? hashString(seed) : Number.isInteger(seed) ? seed >>> 0 : hashString(String(seed));
    const sm = splitmix32(base ^ (typeof seed === 'number' && Math.abs(seed) > 0xffffffff ? Math.floor(seed / 0x100000000) : 0));
    this.s0 = sm(); this.s1 = sm(); this.s2 = sm(); this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`Rng.int: n must be positive, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** true with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Standard normal deviate (Box-Muller, the second value of each pair is cached). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly chosen element. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice: empty list');
    return items[this.int(items.length)]!;
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /**
   * A new independent generator derived from this one's stream (consumes 2 draws). Use it to
   * give a worker or a sub-component its own stream without sharing state.
   */
  fork(): Rng {
    const child = new Rng(0);
    child.s0 = this.nextUint32(); child.s1 = this.nextUint32();
    child.s2 = this.nextUint32() ^ 0x6a09e667; child.s3 = this.nextUint32() ^ 0xbb67ae85;
    if ((child.s0 | child.s1 | child.s2 | child.s3) === 0) child.s0 = 1;
    return child;
  }

  /** Plain-data snapshot of the state (JSON-serialisable, for checkpoints). */
  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spare };
  }

  /** Restore a snapshot taken with {@link getState}. */
  setState(state: RngState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((v) => v | 0) as [number, number, number, number];
    this.spare = state.spareNormal;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function hashString(s: string): number {
  // FNV-1a, 32 bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
