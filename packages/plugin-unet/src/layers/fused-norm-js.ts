/**
 * Plain-loop forward and backward of the fused normalisation (+ optional LeakyReLU) over
 * channels-last float32 arrays, for the pure-JS `cpu` backend. Its reductions over outer axes
 * transpose the whole tensor and its broadcasting element-wise ops index generically, which
 * makes the op-by-op version about 100x slower than these loops (measured: 16 s vs ~0.2 s for
 * a [2, 64, 64, 64, 32] forward). Sums are accumulated in float64.
 */

/** Geometry of a channels-last tensor seen as [N, S, C] with G channel groups. */
export interface NormGeometry {
  n: number;
  /** Spatial voxels per sample. */
  s: number;
  c: number;
  groups: number;
  /** One set of statistics per group over the whole batch (BatchNorm) instead of per sample. */
  acrossBatch: boolean;
}

function statIndexer(g: NormGeometry): { stats: number; count: number; index: (n: number, c: number) => number } {
  const k = g.c / g.groups;
  const stats = g.acrossBatch ? g.groups : g.n * g.groups;
  const count = (g.acrossBatch ? g.n * g.s : g.s) * k;
  const index = g.acrossBatch ? (_n: number, c: number) => Math.floor(c / k) : (n: number, c: number) => n * g.groups + Math.floor(c / k);
  return { stats, count, index };
}

/** Forward: returns y, the per-stat mean, biased variance and 1/sqrt(variance + eps). */
export function normForwardJs(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  g: NormGeometry,
  epsilon: number,
  slope: number | undefined,
): { y: Float32Array; mean: Float32Array; variance: Float32Array; invStd: Float32Array } {
  const { stats, count, index } = statIndexer(g);
  const { n, s, c } = g;
  const cIndex = new Int32Array(c * n);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) cIndex[b * c + ch] = index(b, ch);
  const sum = new Float64Array(stats);
  for (let b = 0; b < n; b++) {
    const row = b * c;
    for (let v = 0; v < s; v++) {
      const base = (b * s + v) * c;
      for (let ch = 0; ch < c; ch++) sum[cIndex[row + ch]!]! += x[base + ch]!;
    }
  }
  const mean = new Float64Array(stats);
  for (let i = 0; i < stats; i++) mean[i] = sum[i]! / count;
  const sq = new Float64Array(stats);
  for (let b = 0; b < n; b++) {
    const row = b * c;
    for (let v = 0; v < s; v++) {
      const base = (b * s + v) * c;
      for (let ch = 0; ch < c; ch++) {
        const st = cIndex[row + ch]!;
        const d = x[base + ch]! - mean[st]!;
        sq[st]! += d * d;
      }
    }
  }
  const variance = new Float32Array(stats);
  const invStd = new Float32Array(stats);
  for (let i = 0; i < stats; i++) {
    variance[i] = sq[i]! / count;
    invStd[i] = 1 / Math.sqrt(sq[i]! / count + epsilon);
  }
  // Per (sample, channel) affine: y = x * a + b with a = invStd * gamma, b = beta - mean * a.
  const a = new Float64Array(n * c);
  const off = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) {
    const st = cIndex[i]!;
    const ch = i % c;
    a[i] = invStd[st]! * gamma[ch]!;
    off[i] = beta[ch]! - mean[st]! * a[i]!;
  }
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    const row = b * c;
    for (let v = 0; v < s; v++) {
      const base = (b * s + v) * c;
      for (let ch = 0; ch < c; ch++) {
        const val = x[base + ch]! * a[row + ch]! + off[row + ch]!;
        y[base + ch] = slope !== undefined && val < 0 ? val * slope : val;
      }
    }
  }
  return { y, mean: Float32Array.from(mean), variance, invStd };
}

/** Backward: gradients of x, gamma and beta given the upstream gradient of the output. */
export function normBackwardJs(
  dy: Float32Array,
  x: Float32Array,
  y: Float32Array | undefined,
  gamma: Float32Array,
  mean: Float32Array,
  invStd: Float32Array,
  g: NormGeometry,
  slope: number | undefined,
): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const { stats, count, index } = statIndexer(g);
  const { n, s, c } = g;
  const cIndex = new Int32Array(c * n);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) cIndex[b * c + ch] = index(b, ch);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const s1 = new Float64Array(stats); // sum of dxhat
  const s2 = new Float64Array(stats); // sum of dxhat * xhat
  for (let b = 0; b < n; b++) {
    const row = b * c;
    for (let v = 0; v < s; v++) {
      const base = (b * s + v) * c;
      for (let ch = 0; ch < c; ch++) {
        const i = base + ch;
        const st = cIndex[row + ch]!;
        const u = slope !== undefined && y![i]! <= 0 ? dy[i]! * slope : dy[i]!;
        const xhat = (x[i]! - mean[st]!) * invStd[st]!;
        dbeta[ch]! += u;
        dgamma[ch]! += u * xhat;
        const dxhat = u * gamma[ch]!;
        s1[st]! += dxhat;
        s2[st]! += dxhat * xhat;
      }
    }
  }
  const dx = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    const row = b * c;
    for (let v = 0; v < s; v++) {
      const base = (b * s + v) * c;
      for (let ch = 0; ch < c; ch++) {
        const i = base + ch;
        const st = cIndex[row + ch]!;
        const u = slope !== undefined && y![i]! <= 0 ? dy[i]! * slope : dy[i]!;
        const xhat = (x[i]! - mean[st]!) * invStd[st]!;
        dx[i] = invStd[st]! * (u * gamma[ch]! - s1[st]! / count - xhat * (s2[st]! / count));
      }
    }
  }
  return { dx, dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
}
