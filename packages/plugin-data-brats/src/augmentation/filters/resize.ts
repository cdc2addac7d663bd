import type { Shape3 } from '@voxseg/core';

/**
 * Resizing of single-channel [D, H, W] volumes as scipy's `ndimage.zoom(..., grid_mode=True,
 * mode='nearest')` does (which is what batchgenerators' `SimulateLowResolutionTransform` gets
 * through skimage's `resize(..., mode='edge', anti_aliasing=False)`): output voxel `o` of an
 * axis reads input coordinate `(o + 0.5) * n_in / n_out - 0.5`, edges replicated. Both
 * resizes are separable: one 1-D pass per axis.
 */

/** Nearest-neighbour resize (order 0). */
export function resizeNearest(x: Float32Array, from: Shape3, to: Shape3): Float32Array {
  const maps = [0, 1, 2].map((a) => {
    const nIn = from[a]!, nOut = to[a]!;
    const m = new Int32Array(nOut);
    const s = nIn / nOut;
    for (let o = 0; o < nOut; o++) {
      // scipy rounds order-0 coordinates half up (floor(c + 0.5)), then clamps ('nearest').
      const c = Math.floor((o + 0.5) * s - 0.5 + 0.5);
      m[o] = c < 0 ? 0 : c >= nIn ? nIn - 1 : c;
    }
    return m;
  }) as [Int32Array, Int32Array, Int32Array];
  const [D, H, W] = to;
  const [, fH, fW] = from;
  const out = new Float32Array(D * H * W);
  let o = 0;
  for (let d = 0; d < D; d++) {
    const bd = maps[0][d]! * fH * fW;
    for (let h = 0; h < H; h++) {
      const bh = bd + maps[1][h]! * fW;
      for (let w = 0; w < W; w++) out[o++] = x[bh + maps[2][w]!]!;
    }
  }
  return out;
}

/** Padding scipy adds (edge-replicated, for mode 'nearest') before the spline prefilter. */
const SPLINE_PAD = 12;
const POLE = Math.sqrt(3) - 2;

/**
 * Cubic B-spline resize (order 3, with the interpolating prefilter), as scipy: each line is
 * padded with 12 replicated edge values, prefiltered with mirror boundaries (Unser's
 * recursive filter, pole sqrt(3) - 2, causal start truncated at z^k < 1e-10), then the spline
 * is evaluated at the mapped coordinates.
 */
export function resizeCubic(x: Float32Array, from: Shape3, to: Shape3): Float32Array {
  let cur = x;
  let shape: Shape3 = [...from];
  for (let axis = 2; axis >= 0; axis--) {
    if (shape[axis] === to[axis]) continue;
    const next: Shape3 = [...shape];
    next[axis] = to[axis]!;
    cur = resizeCubicAxis(cur, shape, next, axis);
    shape = next;
  }
  return cur === x ? x.slice() : cur;
}

function resizeCubicAxis(x: Float32Array, from: Shape3, to: Shape3, axis: number): Float32Array {
  const nIn = from[axis]!;
  const nOut = to[axis]!;
  // View the volume as [outer][n][inner]: the resized axis in the middle, and run every step
  // on whole `inner`-long rows so that the innermost loops read contiguous memory.
  const inner = axis === 2 ? 1 : axis === 1 ? from[2] : from[1] * from[2];
  const outer = axis === 0 ? 1 : axis === 1 ? from[0] : from[0] * from[1];
  const out = new Float32Array(outer * nOut * inner);
  // Per output position, the 4 coefficient rows (in the padded axis) and their weights.
  const L = nIn + 2 * SPLINE_PAD;
  const idx = new Int32Array(nOut * 4);
  const wts = new Float64Array(nOut * 4);
  const s = nIn / nOut;
  for (let o = 0; o < nOut; o++) {
    const c = (o + 0.5) * s - 0.5 + SPLINE_PAD;
    const f = Math.floor(c);
    for (let t = 0; t < 4; t++) {
      const j = f - 1 + t;
      idx[o * 4 + t] = mirror(j, L);
      wts[o * 4 + t] = bspline3(c - j);
    }
  }
  const coef = new Float64Array(L * inner);
  const z = POLE;
  const lambda = (1 - z) * (1 - 1 / z);
  // Causal initialisation truncated where z^k < 1e-10 (exact to float32 precision; the 12
  // replicated pad values make the start of every line flat anyway).
  const horizon = Math.min(L, Math.ceil(Math.log(1e-10) / Math.log(Math.abs(z))));
  const zAnti = z / (z * z - 1);
  for (let ob = 0; ob < outer; ob++) {
    const bIn = ob * nIn * inner;
    const bOut = ob * nOut * inner;
    // Padded, gain-scaled rows: 12 copies of the first row, the rows, 12 copies of the last.
    for (let r = 0; r < L; r++) {
      const k = r < SPLINE_PAD ? 0 : r >= SPLINE_PAD + nIn ? nIn - 1 : r - SPLINE_PAD;
      const src = bIn + k * inner;
      const dst = r * inner;
      for (let j = 0; j < inner; j++) coef[dst + j] = lambda * x[src + j]!;
    }
    // Causal pass: c+[0] = sum_k z^k c[k]; c+[k] = c[k] + z c+[k-1].
    let zk = z;
    for (let r = 1; r < horizon; r++, zk *= z) {
      const src = r * inner;
      for (let j = 0; j < inner; j++) coef[j]! += zk * coef[src + j]!;
    }
    for (let r = 1; r < L; r++) {
      const cur = r * inner;
      const prev = cur - inner;
      for (let j = 0; j < inner; j++) coef[cur + j]! += z * coef[prev + j]!;
    }
    // Anti-causal pass (mirror boundary): c[L-1] = z/(z^2-1) (c+[L-1] + z c+[L-2]); c[k] = z (c[k+1] - c+[k]).
    const last = (L - 1) * inner;
    for (let j = 0; j < inner; j++) coef[last + j] = zAnti * (coef[last + j]! + z * coef[last - inner + j]!);
    for (let r = L - 2; r >= 0; r--) {
      const cur = r * inner;
      const next = cur + inner;
      for (let j = 0; j < inner; j++) coef[cur + j] = z * (coef[next + j]! - coef[cur + j]!);
    }
    // Evaluate the spline at every output position.
    for (let o = 0; o < nOut; o++) {
      const q = o * 4;
      const r0 = idx[q]! * inner, r1 = idx[q + 1]! * inner, r2 = idx[q + 2]! * inner, r3 = idx[q + 3]! * inner;
      const w0 = wts[q]!, w1 = wts[q + 1]!, w2 = wts[q + 2]!, w3 = wts[q + 3]!;
      const dst = bOut + o * inner;
      for (let j = 0; j < inner; j++) out[dst + j] = w0 * coef[r0 + j]! + w1 * coef[r1 + j]! + w2 * coef[r2 + j]! + w3 * coef[r3 + j]!;
    }
  }
  return out;
}

function mirror(j: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let k = j % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

function bspline3(t: number): number {
  const a = Math.abs(t);
  if (a < 1) return 2 / 3 - a * a + 0.5 * a * a * a;
  if (a < 2) {
    const b = 2 - a;
    return (b * b * b) / 6;
  }
  return 0;
}

/**
 * Linear upsampling by an integer factor: output voxel `i` of an axis reads input coordinate
 * `i / factor` (so input voxel k sits on output voxel k * factor), separably per axis. `from`
 * must cover the output: `(to[a] - 1) / factor <= from[a] - 1`.
 */
export function upsampleLinear(x: Float32Array, from: Shape3, to: Shape3, factor: number): Float32Array {
  let cur = x;
  let shape: Shape3 = [...from];
  for (let axis = 2; axis >= 0; axis--) {
    const next: Shape3 = [...shape];
    next[axis] = to[axis]!;
    const out = new Float32Array(next[0] * next[1] * next[2]);
    const nIn = shape[axis]!;
    const nOut = to[axis]!;
    if ((nOut - 1) / factor > nIn - 1) throw new RangeError(`upsampleLinear: ${nIn} values along axis ${axis} cannot cover ${nOut} at factor ${factor}`);
    const inner = axis === 2 ? 1 : axis === 1 ? shape[2] : shape[1] * shape[2];
    const outer = axis === 0 ? 1 : axis === 1 ? shape[0] : shape[0] * shape[1];
    for (let o = 0; o < outer; o++) {
      const bIn = o * nIn * inner;
      const bOut = o * nOut * inner;
      for (let i = 0; i < nOut; i++) {
        const k = Math.floor(i / factor);
        const fr = i / factor - k;
        const a = bIn + k * inner;
        const b = k + 1 < nIn ? a + inner : a;
        const dst = bOut + i * inner;
        for (let j = 0; j < inner; j++) out[dst + j] = cur[a + j]! * (1 - fr) + cur[b + j]! * fr;
      }
    }
    cur = out;
    shape = next;
  }
  return cur;
}
