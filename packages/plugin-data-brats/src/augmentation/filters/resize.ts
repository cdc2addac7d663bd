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
 * recursive filter, pole sqrt(3) - 2), then the spline is evaluated at the mapped coordinates.
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
  const stridesIn = [from[1] * from[2], from[2], 1];
  const stridesOut = [to[1] * to[2], to[2], 1];
  const out = new Float32Array(to[0] * to[1] * to[2]);
  // Precompute, per output position, the 4 coefficient indices (in the padded line) and weights.
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
  const line = new Float64Array(L);
  const sIn = stridesIn[axis]!;
  const sOut = stridesOut[axis]!;
  // Iterate over all lines along `axis`: the other two axes index the line.
  const others = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const [a0, a1] = others;
  for (let i0 = 0; i0 < from[a0]!; i0++) {
    for (let i1 = 0; i1 < from[a1]!; i1++) {
      const baseIn = i0 * stridesIn[a0]! + i1 * stridesIn[a1]!;
      const baseOut = i0 * stridesOut[a0]! + i1 * stridesOut[a1]!;
      const first = x[baseIn]!;
      const last = x[baseIn + (nIn - 1) * sIn]!;
      for (let k = 0; k < SPLINE_PAD; k++) {
        line[k] = first;
        line[L - 1 - k] = last;
      }
      for (let k = 0; k < nIn; k++) line[SPLINE_PAD + k] = x[baseIn + k * sIn]!;
      prefilterMirror(line);
      for (let o = 0; o < nOut; o++) {
        const q = o * 4;
        out[baseOut + o * sOut] =
          wts[q]! * line[idx[q]!]! + wts[q + 1]! * line[idx[q + 1]!]! + wts[q + 2]! * line[idx[q + 2]!]! + wts[q + 3]! * line[idx[q + 3]!]!;
      }
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

/** In-place cubic B-spline interpolation prefilter with mirror (whole-sample symmetric) boundaries. */
function prefilterMirror(c: Float64Array): void {
  const n = c.length;
  if (n === 1) return;
  const z = POLE;
  const lambda = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i]! *= lambda;
  // Causal initialisation: the exact mirror sum (lines here are short).
  let zn = z;
  const z2n = Math.pow(z, n - 1);
  let iz = 1 / z;
  let sum = c[0]! + z2n * c[n - 1]!;
  let zk = z2n * z2n * iz;
  for (let k = 1; k < n - 1; k++) {
    sum += (zn + zk) * c[k]!;
    zn *= z;
    zk *= iz;
  }
  c[0] = sum / (1 - zn * zn);
  for (let k = 1; k < n; k++) c[k]! += z * c[k - 1]!;
  c[n - 1] = (z / (z * z - 1)) * (c[n - 1]! + z * c[n - 2]!);
  for (let k = n - 2; k >= 0; k--) c[k] = z * (c[k + 1]! - c[k]!);
}
