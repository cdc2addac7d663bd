import type { Shape3 } from '@voxseg/core';

/**
 * scipy's `gaussian_filter1d` kernel: weights exp(-x^2 / (2 sigma^2)) for x in [-r, r],
 * r = floor(truncate * sigma + 0.5), normalised to sum 1.
 */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + r] = v;
    s += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

/** scipy's `reflect` boundary (half-sample symmetric: d c b a | a b c d | d c b a). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/**
 * Separable Gaussian smoothing of a single-channel [D, H, W] volume, equal to scipy's
 * `gaussian_filter(x, sigma, mode='reflect', truncate=4)` (batchgenerators' blur). Each axis
 * is a 1-D convolution written so that the innermost loop runs over contiguous memory
 * (whole planes for D, whole rows for H). Returns a new array; `x` is not modified.
 *
 * @param sigma one sigma for all axes, or one per axis [D, H, W]; 0 skips an axis
 */
export function gaussianFilter3d(x: Float32Array, shape: Shape3, sigma: number | Shape3, truncate = 4): Float32Array {
  const s: Shape3 = typeof sigma === 'number' ? [sigma, sigma, sigma] : sigma;
  let cur = x;
  let owned = false;
  for (let axis = 0; axis < 3; axis++) {
    if (!(s[axis]! > 0)) continue;
    const out = new Float32Array(x.length);
    convolveAxis(cur, out, shape, axis, gaussianKernel(s[axis]!, truncate));
    cur = out;
    owned = true;
  }
  return owned ? cur : x.slice();
}

function convolveAxis(src: Float32Array, dst: Float32Array, shape: Shape3, axis: number, k: Float64Array): void {
  const [D, H, W] = shape;
  const r = (k.length - 1) / 2;
  if (axis === 0) {
    const S = H * W;
    for (let d = 0; d < D; d++) {
      const o = d * S;
      for (let t = -r; t <= r; t++) {
        const wt = k[t + r]!;
        const si = reflectIndex(d + t, D) * S;
        for (let j = 0; j < S; j++) dst[o + j]! += wt * src[si + j]!;
      }
    }
  } else if (axis === 1) {
    for (let d = 0; d < D; d++) {
      const base = d * H * W;
      for (let h = 0; h < H; h++) {
        const o = base + h * W;
        for (let t = -r; t <= r; t++) {
          const wt = k[t + r]!;
          const si = base + reflectIndex(h + t, H) * W;
          for (let j = 0; j < W; j++) dst[o + j]! += wt * src[si + j]!;
        }
      }
    }
  } else {
    const pad = new Float64Array(W + 2 * r);
    const rows = D * H;
    for (let row = 0; row < rows; row++) {
      const o = row * W;
      for (let i = -r; i < W + r; i++) pad[i + r] = src[o + reflectIndex(i, W)]!;
      for (let j = 0; j < W; j++) {
        let acc = 0;
        for (let t = 0; t < k.length; t++) acc += k[t]! * pad[j + t]!;
        dst[o + j] = acc;
      }
    }
  }
}
