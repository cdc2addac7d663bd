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
  // Ping-pong between two buffers (at most two 8 MB allocations for a 128^3 channel).
  let cur = x;
  let spare: Float32Array | undefined;
  for (let axis = 0; axis < 3; axis++) {
    if (!(s[axis]! > 0)) continue;
    const out = spare ?? new Float32Array(x.length);
    convolveAxis(cur, out, shape, axis, gaussianKernel(s[axis]!, truncate));
    spare = cur === x ? undefined : cur;
    cur = out;
  }
  return cur === x ? x.slice() : cur;
}

function convolveAxis(src: Float32Array, dst: Float32Array, shape: Shape3, axis: number, k: Float64Array): void {
  const [D, H, W] = shape;
  const r = (k.length - 1) / 2;
  const k0 = k[r]!;
  if (axis === 0 || axis === 1) {
    // Whole planes (axis D) or rows (axis H) at a time; the kernel is symmetric, so taps
    // +t and -t share one multiply.
    const n = axis === 0 ? D : H;
    const len = axis === 0 ? H * W : W;
    const outer = axis === 0 ? 1 : D;
    for (let o = 0; o < outer; o++) {
      const base = o * n * len;
      for (let i = 0; i < n; i++) {
        const out = base + i * len;
        const c = base + i * len;
        for (let j = 0; j < len; j++) dst[out + j] = k0 * src[c + j]!;
        for (let t = 1; t <= r; t++) {
          const wt = k[r + t]!;
          const a = base + reflectIndex(i - t, n) * len;
          const b = base + reflectIndex(i + t, n) * len;
          for (let j = 0; j < len; j++) dst[out + j]! += wt * (src[a + j]! + src[b + j]!);
        }
      }
    }
  } else {
    const pad = new Float64Array(W + 2 * r);
    const map = new Int32Array(W + 2 * r);
    for (let i = -r; i < W + r; i++) map[i + r] = reflectIndex(i, W);
    const rows = D * H;
    for (let row = 0; row < rows; row++) {
      const o = row * W;
      for (let i = 0; i < map.length; i++) pad[i] = src[o + map[i]!]!;
      for (let j = 0; j < W; j++) {
        const m = j + r;
        let acc = k0 * pad[m]!;
        for (let t = 1; t <= r; t++) acc += k[r + t]! * (pad[m - t]! + pad[m + t]!);
        dst[o + j] = acc;
      }
    }
  }
}
