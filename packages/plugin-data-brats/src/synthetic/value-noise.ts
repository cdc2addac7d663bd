import type { Rng } from '@voxseg/core';

/**
 * Smooth random field on [0,1]^3: uniform values in [-1, 1] on a coarse (g+1)^3 lattice,
 * interpolated with smoothstep-weighted trilinear interpolation. Cheap (8 lookups a sample),
 * deterministic given the rng, and smooth enough for organic shapes and textures.
 */
export class ValueNoise3 {
  private readonly values: Float32Array;
  private readonly n: number;

  /** @param cells lattice cells per axis: larger = finer detail */
  constructor(rng: Rng, readonly cells: number) {
    this.n = cells + 1;
    this.values = new Float32Array(this.n ** 3);
    for (let i = 0; i < this.values.length; i++) this.values[i] = rng.uniform(-1, 1);
  }

  /** Value at (u, v, w) in [0, 1] (clamped), roughly in [-1, 1]. */
  sample(u: number, v: number, w: number): number {
    const g = this.cells, n = this.n;
    const x = clamp01(u) * g, y = clamp01(v) * g, z = clamp01(w) * g;
    const x0 = Math.min(g - 1, x | 0), y0 = Math.min(g - 1, y | 0), z0 = Math.min(g - 1, z | 0);
    const fx = smooth(x - x0), fy = smooth(y - y0), fz = smooth(z - z0);
    const vals = this.values;
    const i000 = (z0 * n + y0) * n + x0;
    const i010 = i000 + n, i100 = i000 + n * n, i110 = i100 + n;
    const a = vals[i000]! + (vals[i000 + 1]! - vals[i000]!) * fx;
    const b = vals[i010]! + (vals[i010 + 1]! - vals[i010]!) * fx;
    const c = vals[i100]! + (vals[i100 + 1]! - vals[i100]!) * fx;
    const d = vals[i110]! + (vals[i110 + 1]! - vals[i110]!) * fx;
    const ab = a + (b - a) * fy;
    const cd = c + (d - c) * fy;
    return ab + (cd - ab) * fz;
  }
}

function clamp01(t: number): number {
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}
