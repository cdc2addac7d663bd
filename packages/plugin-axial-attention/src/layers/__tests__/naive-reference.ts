/**
 * Test-only naive reference of axial attention: explicit loops over batch, lines, positions,
 * heads and channels, in float64, with no tensor library. Deliberately written the slow,
 * obvious way so that it shares nothing with the batched-matmul implementation it checks.
 * (Not exported from the package.)
 */

/** Kernels of one axis, row-major `[in, out]`, as the tfjs layer stores them. */
export interface NaiveAxisWeights {
  query: ArrayLike<number>; // [C, hd]
  key: ArrayLike<number>; // [C, hd]
  value: ArrayLike<number>; // [C, hd]
  outKernel: ArrayLike<number>; // [hd, C]
  outBias: ArrayLike<number>; // [C]
}

/** Shape `[N, D, H, W, C]`. */
export type Shape5 = [number, number, number, number, number];

/** One self-attention pass along spatial axis `axis` (1 = D, 2 = H, 3 = W) of `x`. */
export function naiveAttendAlong(
  x: ArrayLike<number>,
  shape: Shape5,
  axis: 1 | 2 | 3,
  w: NaiveAxisWeights,
  heads: number,
  dimHead: number,
): Float64Array {
  const [n, d, h, wd, c] = shape;
  const hd = heads * dimHead;
  const size = [n, d, h, wd];
  const len = size[axis]!;
  const index = (p: number[]) => (((p[0]! * d + p[1]!) * h + p[2]!) * wd + p[3]!) * c;
  const out = new Float64Array(n * d * h * wd * c);
  const others = [1, 2, 3].filter((a) => a !== axis);
  const scale = 1 / Math.sqrt(dimHead);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < size[others[0]!]!; i++) {
      for (let j = 0; j < size[others[1]!]!; j++) {
        // Voxel offsets of this line, position by position.
        const offsets: number[] = [];
        for (let l = 0; l < len; l++) {
          const p = [b, 0, 0, 0];
          p[others[0]!] = i;
          p[others[1]!] = j;
          p[axis] = l;
          offsets.push(index(p));
        }
        const project = (kernel: ArrayLike<number>) =>
          offsets.map((off) => {
            const row = new Float64Array(hd);
            for (let m = 0; m < hd; m++) {
              let s = 0;
              for (let ch = 0; ch < c; ch++) s += x[off + ch]! * kernel[ch * hd + m]!;
              row[m] = s;
            }
            return row;
          });
        const q = project(w.query);
        const k = project(w.key);
        const v = project(w.value);
        const attended = offsets.map(() => new Float64Array(hd));
        for (let head = 0; head < heads; head++) {
          const base = head * dimHead;
          for (let a = 0; a < len; a++) {
            const scores = new Float64Array(len);
            let max = -Infinity;
            for (let bb = 0; bb < len; bb++) {
              let s = 0;
              for (let t = 0; t < dimHead; t++) s += q[a]![base + t]! * k[bb]![base + t]!;
              scores[bb] = s * scale;
              max = Math.max(max, scores[bb]!);
            }
            let total = 0;
            for (let bb = 0; bb < len; bb++) {
              scores[bb] = Math.exp(scores[bb]! - max);
              total += scores[bb]!;
            }
            for (let bb = 0; bb < len; bb++) {
              for (let t = 0; t < dimHead; t++) attended[a]![base + t] += (scores[bb]! / total) * v[bb]![base + t]!;
            }
          }
        }
        for (let a = 0; a < len; a++) {
          for (let ch = 0; ch < c; ch++) {
            let s = w.outBias[ch]!;
            for (let m = 0; m < hd; m++) s += attended[a]![m]! * w.outKernel[m * c + ch]!;
            out[offsets[a]! + ch] = s;
          }
        }
      }
    }
  }
  return out;
}

/** The full sequential axial attention: D, then H, then W (or the given axes, in order). */
export function naiveAxialAttention(
  x: ArrayLike<number>,
  shape: Shape5,
  weights: Partial<Record<'d' | 'h' | 'w', NaiveAxisWeights>>,
  heads: number,
  dimHead: number,
  axes: ('d' | 'h' | 'w')[] = ['d', 'h', 'w'],
): Float64Array {
  let y: ArrayLike<number> = x;
  for (const a of axes) {
    y = naiveAttendAlong(y, shape, ({ d: 1, h: 2, w: 3 } as const)[a], weights[a]!, heads, dimHead);
  }
  return Float64Array.from(y);
}
