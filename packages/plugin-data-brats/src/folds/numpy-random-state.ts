/**
 * A bit-exact TypeScript port of the parts of numpy's legacy `np.random.RandomState` that
 * nnU-Net's fold split depends on: MT19937 with numpy's integer seeding (`init_genrand`),
 * `random_interval` (bounded draws by masked rejection) and the in-place `shuffle`
 * (Fisher-Yates from the end). With it, `new NumpyRandomState(12345).shuffle(arange(n))`
 * gives the same permutation as Python, so voxseg's folds are nnU-Net's folds.
 *
 * Not a general-purpose generator: voxseg's own randomness goes through `Rng` from
 * `@voxseg/core`. This class exists only to reproduce numpy's stream.
 */
export class NumpyRandomState {
  private static readonly N = 624;
  private static readonly M = 397;
  private readonly mt = new Uint32Array(NumpyRandomState.N);
  private index = NumpyRandomState.N;

  /** @param seed an integer in [0, 2^32 - 1], as numpy requires for legacy seeding. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`NumpyRandomState: seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < NumpyRandomState.N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** Next 32-bit output of MT19937 (numpy's `next_uint32`). */
  nextUint32(): number {
    if (this.index >= NumpyRandomState.N) this.generate();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A uniform integer in [0, max], numpy's `random_interval`: draw 32-bit values masked to the
   * smallest all-ones mask covering `max` until one is <= max. Only max < 2^32 is supported.
   */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    if (!(max > 0 && max <= 0xffffffff)) throw new RangeError(`randomInterval: max must be in [0, 2**32 - 1], got ${max}`);
    let mask = max >>> 0;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /** In-place shuffle exactly as `RandomState.shuffle` on a 1-D array: for i = n-1..1 swap i and random_interval(i). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** The MT19937 state refill (the standard "twist"). */
  private generate(): void {
    const { N, M } = NumpyRandomState;
    const mt = this.mt;
    const UPPER = 0x80000000, LOWER = 0x7fffffff, MATRIX_A = 0x9908b0df;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER) | (mt[kk + 1]! & LOWER);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER) | (mt[kk + 1]! & LOWER);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER) | (mt[0]! & LOWER);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }
}
