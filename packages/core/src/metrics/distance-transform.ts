import type { Shape3 } from '../volume/types.js';

/**
 * Exact squared Euclidean distance transform of a 3-D mask, honouring anisotropic voxel
 * spacing: for every voxel, the squared distance in mm^2 to the nearest voxel where
 * `features` is non-zero (0 on the features themselves; `Infinity` everywhere when there
 * is no feature at all).
 *
 * Algorithm: Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions"
 * (2012): the 3-D transform separates into three 1-D passes (x, then y, then z), each
 * computing the lower envelope of parabolas `(s * (q - p))^2 + f(p)` in linear time. Total
 * cost O(D*H*W), memory one Float64Array of the volume plus one line of scratch. Its result
 * equals `scipy.ndimage.distance_transform_edt(~features, sampling=spacing) ** 2`.
 *
 * @param features non-zero = feature voxel, [D, H, W]
 * @param shape [D, H, W]
 * @param spacing voxel size in mm along [D, H, W]
 */
export function squaredDistanceTransform(features: ArrayLike<number>, shape: Shape3, spacing: Shape3): Float64Array {
  const [D, H, W] = shape;
  const n = D * H * W;
  if (features.length !== n) {
    throw new RangeError(`squaredDistanceTransform: mask has ${features.length} voxels, shape [${shape.join(',')}] needs ${n}`);
  }
  const dist = new Float64Array(n);
  // Pass along x: on a binary input the 1-D transform is just the distance to the nearest
  // feature in the row (two sweeps), cheaper than the general envelope.
  for (let row = 0; row < D * H; row++) rowDistance(features, dist, row * W, W, spacing[2]);
  const scratch = new LineScratch(Math.max(D, H, W));
  // Then along y (stride W) and z (stride H*W), each pass reading the previous pass's
  // result: the squared Euclidean distance separates by axis. x runs innermost so
  // neighbouring lines share cache lines.
  for (let z = 0; z < D; z++) for (let x = 0; x < W; x++) scratch.transform(dist, z * H * W + x, W, H, spacing[1]);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) scratch.transform(dist, y * W + x, H * W, D, spacing[0]);
  return dist;
}

/**
 * Squared distance (samples `step` mm apart) from each voxel of one row to the nearest
 * non-zero voxel of the same row, written to `out`; Infinity when the row has none.
 */
function rowDistance(features: ArrayLike<number>, out: Float64Array, offset: number, length: number, step: number): void {
  let last = -1; // index of the nearest feature on the left
  for (let i = 0; i < length; i++) {
    if (features[offset + i] !== 0) last = i;
    out[offset + i] = last < 0 ? Infinity : (i - last) * step * ((i - last) * step);
  }
  if (last < 0) return; // no feature: the row stays Infinity
  let next = -1; // index of the nearest feature on the right
  for (let i = length - 1; i >= 0; i--) {
    if (features[offset + i] !== 0) next = i;
    if (next >= 0) {
      const d = (next - i) * step;
      if (d * d < out[offset + i]!) out[offset + i] = d * d;
    }
  }
}

/** Scratch buffers for one 1-D pass, allocated once per transform (no per-line garbage). */
class LineScratch {
  private readonly f: Float64Array;
  private readonly v: Int32Array;
  private readonly z: Float64Array;

  constructor(length: number) {
    this.f = new Float64Array(length);
    this.v = new Int32Array(length);
    this.z = new Float64Array(length + 1);
  }

  /**
   * In place 1-D transform of the `length` values of `data` at `offset + i * stride`,
   * with samples `step` mm apart: d(q) = min_p (step * (q - p))^2 + f(p).
   */
  transform(data: Float64Array, offset: number, stride: number, length: number, step: number): void {
    const { f, v, z } = this;
    for (let i = 0, j = offset; i < length; i++, j += stride) f[i] = data[j]!;
    // Lower envelope of the parabolas rooted at finite samples; infinite samples (no
    // feature reachable yet) can never be the minimum, so they are skipped. Positions
    // are in mm (index * step) so anisotropic spacing is exact.
    let k = -1;
    for (let q = 0; q < length; q++) {
      const fq = f[q]!;
      if (fq === Infinity) continue;
      const xq = q * step;
      const hq = fq + xq * xq;
      let s = -Infinity;
      while (k >= 0) {
        const p = v[k]!;
        const xp = p * step;
        s = (hq - (f[p]! + xp * xp)) / (2 * (xq - xp));
        if (s > z[k]!) break;
        k--;
      }
      k++;
      v[k] = q;
      z[k] = k === 0 ? -Infinity : s;
      z[k + 1] = Infinity;
    }
    if (k < 0) return; // the whole line is infinite: leave it so
    let e = 0;
    for (let q = 0, j = offset; q < length; q++, j += stride) {
      const xq = q * step;
      while (z[e + 1]! < xq) e++;
      const p = v[e]!;
      const dx = xq - p * step;
      data[j] = dx * dx + f[p]!;
    }
  }
}
