import * as tf from '@tensorflow/tfjs-core';
import { FUSED_NORM_BACKWARD, FUSED_NORM_FORWARD, type FusedNormKernelAttrs, fusedNormSlope, fusedNormStatsShape } from '@voxseg/core';
import { maxBindingElements, pieces, type ViewBackend, withViews } from './binding-split.js';
import { runWgsl, WgslProgram, type WgslRunner } from './wgsl-program.js';

/**
 * The fused norm kernels (`@voxseg/core`'s contract: BatchNorm, GroupNorm, InstanceNorm, each
 * optionally followed by LeakyReLU) in WGSL, for channels-last tensors of any rank >= 2 seen
 * as `[N, S, C]`.
 *
 * Reductions are two-level, so no thread sums more than a few dozen values in a row (f32
 * throughout, as on the GPU every sum should be):
 * 1. column sums: each workgroup takes one block of `rowsPerChunk` rows of one sample; its
 *    threads cover the C channels (consecutive threads, consecutive channels: coalesced reads)
 *    times L row lanes, each lane summing 16 rows; the lanes are then added by a tree in
 *    workgroup memory, giving one partial sum per (sample, block, channel);
 * 2. a 256-thread tree per (sample, channel) over the blocks;
 * 3. per statistic, the few (sample, channel) sums of its group.
 * The forward pass computes the mean, then the centred second moment (two passes, as
 * tfjs's `moments` and backend-native do, for precision), then applies the affine map (and
 * the activation) element-wise. The backward pass sums `dy` and `dy * (x - mean)` per
 * (sample, channel) in one pass, derives `dbeta`, `dgamma` and the two per-statistic
 * coefficients of the standard normalisation gradient, and applies them element-wise.
 *
 * Every pass over full-size tensors runs in pieces that fit one storage binding
 * (see binding-split.ts), so tensors above `maxStorageBufferBindingSize` work too.
 */

/** Rows each thread lane sums serially in the column-sum pass. */
const ROWS_PER_LANE = 16;
const TPB = 256;

type SumMode = 'sum' | 'sq' | 'bwd';

interface Geometry {
  n: number;
  s: number;
  c: number;
  g: number;
  k: number;
  across: boolean;
  /** Statistics: (across ? 1 : N) * G. */
  p: number;
  /** Elements per statistic. */
  count: number;
  /** Channel width covered by one pass of the workgroup, lanes per channel, channel passes. */
  cw: number;
  lanes: number;
  passes: number;
  rowsPerChunk: number;
  chunks: number;
}

function geometry(op: string, x: tf.TensorInfo, a: FusedNormKernelAttrs): Geometry {
  if (x.dtype !== 'float32') throw new Error(`${op} on webgpu: expected float32 x, got ${x.dtype}`);
  if (x.shape.length < 2) throw new Error(`${op}: expected x of rank >= 2 (channels last), got [${x.shape.join(', ')}]`);
  const n = x.shape[0]!;
  const c = x.shape[x.shape.length - 1]!;
  if (!Number.isInteger(a.groups) || a.groups < 1 || c % a.groups !== 0) {
    throw new Error(`${op}: ${c} channels of x [${x.shape.join(', ')}] are not divisible into ${a.groups} groups`);
  }
  const s = x.shape.slice(1, -1).reduce((p, d) => p * d, 1);
  const g = a.groups;
  const k = c / g;
  const across = !!a.acrossBatch;
  const cw = Math.min(c, TPB);
  const lanes = Math.max(1, Math.floor(TPB / cw));
  const rowsPerChunk = lanes * ROWS_PER_LANE;
  return {
    n, s, c, g, k, across,
    p: (across ? 1 : n) * g,
    count: (across ? n * s : s) * k,
    cw, lanes, passes: Math.ceil(c / cw), rowsPerChunk,
    chunks: Math.max(1, Math.ceil(s / rowsPerChunk)),
  };
}

const STAT_INDEX = 'select(n, 0, uniforms.across != 0) * uniforms.G + c / uniforms.K';
const GEOMETRY_UNIFORMS = ['S', 'C', 'G', 'K', 'across', 'N'];
const geometryValues = (g: Geometry): number[] => [g.s, g.c, g.g, g.k, g.across ? 1 : 0, g.n];

/** Pass 1: per (sample, row block, channel) sums of x, (x - mean)^2, or dy and dy * (x - mean). */
function columnSumsProgram(geo: Geometry, mode: SumMode, slope: boolean, workgroups: number): WgslProgram {
  const t = mode === 'bwd' ? 2 : 1;
  const inputs = mode === 'sum' ? ['x'] : mode === 'sq' ? ['x', 'mean'] : slope ? ['dy', 'x', 'mean', 'y'] : ['dy', 'x', 'mean'];
  const accumulate =
    mode === 'sum'
      ? 'a0 = a0 + x[i];'
      : mode === 'sq'
        ? 'let d = x[i] - m; a0 = a0 + d * d;'
        : `var u = dy[i]; ${slope ? 'if (y[i] <= 0.0) { u = u * uniforms.slope; }' : ''} a0 = a0 + u; a1 = a1 + u * (x[i] - m);`;
  const { cw, lanes, passes, rowsPerChunk } = geo;
  const body = `
    let t = i32(localId.x);
    let w = workgroupIndex();
    let valid = w < uniforms.wgCount;
    let n = uniforms.nBase + w / uniforms.chunkCount;
    let chunk = uniforms.chunkBase + w % uniforms.chunkCount;
    let lane = t / ${cw};
    let cl = t % ${cw};
    let rBegin = chunk * ${rowsPerChunk};
    let rEnd = min(uniforms.S, rBegin + ${rowsPerChunk});
    for (var cp = 0; cp < ${passes}; cp++) {
      let c = cp * ${cw} + cl;
      var a0 = 0.0;
      var a1 = 0.0;
      if (valid && lane < ${lanes} && c < uniforms.C) {
        let m = ${mode === 'sum' ? '0.0' : `mean[${STAT_INDEX}]`};
        for (var r = rBegin + lane; r < rEnd; r += ${lanes}) {
          let i = (n * uniforms.S + r) * uniforms.C + c - uniforms.base;
          ${accumulate}
        }
      }
      red0[t] = a0;
      ${t === 2 ? 'red1[t] = a1;' : ''}
      workgroupBarrier();
      var s = ${lanes};
      loop {
        if (s <= 1) { break; }
        let hs = (s + 1) / 2;
        if (lane + hs < s) {
          red0[t] = red0[t] + red0[t + hs * ${cw}];
          ${t === 2 ? `red1[t] = red1[t] + red1[t + hs * ${cw}];` : ''}
        }
        workgroupBarrier();
        s = hs;
      }
      if (valid && lane == 0 && c < uniforms.C) {
        let o = (n * uniforms.chunks + chunk) * ${t} * uniforms.C + c;
        result[o] = red0[t];
        ${t === 2 ? 'result[o + uniforms.C] = red1[t];' : ''}
      }
      workgroupBarrier();
    }`;
  const program = new WgslProgram(
    'FusedNormColumnSums',
    `voxseg_norm_colsums_${mode}_${slope}_${cw}_${lanes}_${passes}`,
    inputs,
    0,
    [...GEOMETRY_UNIFORMS, 'chunks', 'nBase', 'chunkBase', 'chunkCount', 'wgCount', 'base', 'slope : f32'],
    workgroups,
    TPB,
    body,
  );
  program.prelude = `var<workgroup> red0 : array<f32, ${TPB}>;\n${t === 2 ? `var<workgroup> red1 : array<f32, ${TPB}>;` : ''}`;
  return program;
}

/** Pass 2: partial [N, chunks, Q] -> [N, Q], one 256-thread tree per output. */
function chunkReduceProgram(outputs: number): WgslProgram {
  const body = `
    let t = i32(localId.x);
    let w = workgroupIndex();
    let valid = w < uniforms.outCount;
    let n = w / uniforms.Q;
    let q = w % uniforms.Q;
    var a = 0.0;
    if (valid) {
      for (var k = t; k < uniforms.chunks; k += ${TPB}) { a = a + partial[(n * uniforms.chunks + k) * uniforms.Q + q]; }
    }
    red0[t] = a;
    workgroupBarrier();
    for (var s = ${TPB / 2}; s > 0; s = s / 2) {
      if (t < s) { red0[t] = red0[t] + red0[t + s]; }
      workgroupBarrier();
    }
    if (valid && t == 0) { result[w] = red0[0]; }`;
  const program = new WgslProgram('FusedNormChunkReduce', 'voxseg_norm_chunk_reduce', ['partial'], outputs, ['Q', 'chunks', 'outCount'], outputs, TPB, body);
  program.prelude = `var<workgroup> red0 : array<f32, ${TPB}>;`;
  return program;
}

/** The sums of one statistic's (sample, channel) columns: `sums` is [N, T, C], column `col`. */
const GROUP_SUM = (term: string) => `
    let g = p % uniforms.G;
    var nFirst = p / uniforms.G;
    var nLast = nFirst + 1;
    if (uniforms.across != 0) { nFirst = 0; nLast = uniforms.N; }
    var a = 0.0;
    for (var n = nFirst; n < nLast; n++) {
      for (var kk = 0; kk < uniforms.K; kk++) {
        let c = g * uniforms.K + kk;
        a = a + ${term};
      }
    }`;

/** Pass 3 (forward): mean or variance per statistic from the per-(sample, channel) sums. */
function statsProgram(geo: Geometry, what: 'mean' | 'variance'): WgslProgram {
  const body = `
    let p = workgroupIndex() * 64 + i32(localId.x);
    if (p < uniforms.P) {
      ${GROUP_SUM('sums[n * uniforms.C + c]')}
      result[p] = a / f32(uniforms.count);
    }`;
  return new WgslProgram(`FusedNormStats`, `voxseg_norm_stats_${what}`, ['sums'], geo.p, [...GEOMETRY_UNIFORMS, 'P', 'count'], Math.ceil(geo.p / 64), 64, body);
}

/** Element-wise passes run over `count` elements starting at global element `first`. */
const ELEMENT = `
    let idx = workgroupIndex() * ${TPB} + i32(localId.x);
    if (idx >= uniforms.count) { return; }
    let e = uniforms.first + idx;
    let i = e - uniforms.base;
    let c = e % uniforms.C;
    let n = e / (uniforms.S * uniforms.C);
    let p = ${STAT_INDEX};`;

function applyForwardProgram(slope: boolean, count: number): WgslProgram {
  const body = `${ELEMENT}
    var v = (x[i] - mean[p]) * inverseSqrt(variance[p] + uniforms.eps) * gamma[c] + beta[c];
    ${slope ? 'if (v < 0.0) { v = v * uniforms.slope; }' : ''}
    result[i] = v;`;
  return new WgslProgram(
    'FusedNormApply',
    `voxseg_norm_apply_${slope}`,
    ['x', 'mean', 'variance', 'gamma', 'beta'],
    0,
    [...GEOMETRY_UNIFORMS, 'first', 'count', 'base', 'eps : f32', 'slope : f32'],
    Math.ceil(count / TPB),
    TPB,
    body,
  );
}

/** Backward pass 3a: dbeta (column 0) or dgamma (column 1: times 1/sqrt(var + eps)) per channel. */
function paramGradProgram(geo: Geometry, which: 'dbeta' | 'dgamma'): WgslProgram {
  const col = which === 'dbeta' ? 0 : 1;
  const body = `
    let c = workgroupIndex() * 64 + i32(localId.x);
    if (c < uniforms.C) {
      var a = 0.0;
      for (var n = 0; n < uniforms.N; n++) {
        let v = sums[(n * 2 + ${col}) * uniforms.C + c];
        ${which === 'dbeta' ? 'a = a + v;' : `a = a + v * inverseSqrt(variance[${STAT_INDEX}] + uniforms.eps);`}
      }
      result[c] = a;
    }`;
  return new WgslProgram('FusedNormParamGrad', `voxseg_norm_${which}`, which === 'dbeta' ? ['sums'] : ['sums', 'variance'], geo.c, [...GEOMETRY_UNIFORMS, 'eps : f32'], Math.ceil(geo.c / 64), 64, body);
}

/**
 * Backward pass 3b: per statistic, k1 = mean of gamma * dy and k2 = mean of gamma * dy * xhat
 * over its elements: output [2, P].
 */
function coefficientsProgram(geo: Geometry): WgslProgram {
  const body = `
    let j = workgroupIndex() * 64 + i32(localId.x);
    if (j < 2 * uniforms.P) {
      let which = j / uniforms.P;
      let p = j % uniforms.P;
      ${GROUP_SUM('gamma[c] * sums[(n * 2 + which) * uniforms.C + c]')}
      if (which == 1) { a = a * inverseSqrt(variance[p] + uniforms.eps); }
      result[j] = a / f32(uniforms.count);
    }`;
  return new WgslProgram(
    'FusedNormCoefficients',
    'voxseg_norm_coefficients',
    ['sums', 'variance', 'gamma'],
    2 * geo.p,
    [...GEOMETRY_UNIFORMS, 'P', 'count', 'eps : f32'],
    Math.ceil((2 * geo.p) / 64),
    64,
    body,
  );
}

function applyBackwardProgram(slope: boolean, count: number): WgslProgram {
  const body = `${ELEMENT}
    let rstd = inverseSqrt(variance[p] + uniforms.eps);
    var u = dy[i];
    ${slope ? 'if (y[i] <= 0.0) { u = u * uniforms.slope; }' : ''}
    result[i] = rstd * (u * gamma[c] - coef[p] - (x[i] - mean[p]) * rstd * coef[uniforms.P + p]);`;
  return new WgslProgram(
    'FusedNormApplyBackward',
    `voxseg_norm_apply_backward_${slope}`,
    slope ? ['dy', 'x', 'mean', 'variance', 'gamma', 'coef', 'y'] : ['dy', 'x', 'mean', 'variance', 'gamma', 'coef'],
    0,
    [...GEOMETRY_UNIFORMS, 'P', 'first', 'count', 'base', 'eps : f32', 'slope : f32'],
    Math.ceil(count / TPB),
    TPB,
    body,
  );
}

type Backend = WgslRunner & ViewBackend;

/**
 * Pass 1 + 2: per-(sample, channel) sums `[N, T, C]` of the full-size tensors `big` (read as
 * the program's first inputs, in order) with the small inputs `small` after them.
 */
function columnSums(backend: Backend, geo: Geometry, mode: SumMode, slope: number | undefined, big: tf.TensorInfo[], small: tf.TensorInfo[], order: (bigViews: tf.TensorInfo[], small: tf.TensorInfo[]) => tf.TensorInfo[]): tf.TensorInfo {
  const t = mode === 'bwd' ? 2 : 1;
  const partial = backend.makeTensorInfo([geo.n * geo.chunks * t * geo.c], 'float32');
  const total = geo.n * geo.s * geo.c;
  const maxEl = maxBindingElements(backend);
  const uniforms = (nBase: number, nCount: number, chunkBase: number, chunkCount: number, base: number) => [
    ...geometryValues(geo), geo.chunks, nBase, chunkBase, chunkCount, nCount * chunkCount, base, { f: slope ?? 0 },
  ];
  if (total <= maxEl) {
    const wg = geo.n * geo.chunks;
    runWgsl(backend, columnSumsProgram(geo, mode, slope !== undefined, wg), order(big, small), uniforms(0, geo.n, 0, geo.chunks, 0), partial.shape, partial);
  } else {
    // One sample at a time, in runs of whole row blocks that fit one binding.
    const blockElements = geo.rowsPerChunk * geo.c;
    for (let n = 0; n < geo.n; n++) {
      for (const [a, b] of pieces(geo.s * geo.c, blockElements, maxEl, `${FUSED_NORM_FORWARD} on webgpu`)) {
        const chunkBase = a / blockElements;
        const chunkCount = Math.ceil((b - a) / blockElements);
        const first = n * geo.s * geo.c + a;
        withViews(backend, big, first, n * geo.s * geo.c + b, (views, base) => {
          runWgsl(backend, columnSumsProgram(geo, mode, slope !== undefined, chunkCount), order(views, small), uniforms(n, 1, chunkBase, chunkCount, base), partial.shape, partial);
        });
      }
    }
  }
  const q = t * geo.c;
  const sums = runWgsl(backend, chunkReduceProgram(geo.n * q), [partial], [q, geo.chunks, geo.n * q], [geo.n * q]);
  backend.disposeData(partial.dataId);
  return sums;
}

/** An element-wise pass over the full-size tensors `big` (and `out`), in binding-sized pieces. */
function elementwise(backend: Backend, big: tf.TensorInfo[], out: tf.TensorInfo, run: (views: tf.TensorInfo[], outView: tf.TensorInfo, first: number, count: number, base: number) => void): void {
  const total = out.shape.reduce((p, d) => p * d, 1);
  const maxEl = maxBindingElements(backend);
  if (total <= maxEl) {
    run(big, out, 0, total, 0);
    return;
  }
  for (const [a, b] of pieces(total, 64, maxEl, 'fused norm on webgpu')) {
    withViews(backend, [...big, out], a, b, (views, base) => run(views.slice(0, -1), views[views.length - 1]!, a, b - a, base));
  }
}

function forwardKernel({ inputs, backend: be, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const a = attrs as unknown as FusedNormKernelAttrs;
  const backend = be as Backend;
  const geo = geometry(FUSED_NORM_FORWARD, x, a);
  checkChannels(FUSED_NORM_FORWARD, geo, { gamma, beta });
  const slope = fusedNormSlope(a);
  const statShape = fusedNormStatsShape(x.shape, a);
  const geoU = geometryValues(geo);
  const sum1 = columnSums(backend, geo, 'sum', undefined, [x], [], (big) => big);
  const mean = runWgsl(backend, statsProgram(geo, 'mean'), [sum1], [...geoU, geo.p, geo.count], statShape);
  backend.disposeData(sum1.dataId);
  const sum2 = columnSums(backend, geo, 'sq', undefined, [x], [mean], (big, small) => [...big, ...small]);
  const variance = runWgsl(backend, statsProgram(geo, 'variance'), [sum2], [...geoU, geo.p, geo.count], statShape);
  backend.disposeData(sum2.dataId);
  const y = backend.makeTensorInfo([...x.shape], 'float32');
  elementwise(backend, [x], y, ([xv], yv, first, count, base) => {
    runWgsl(backend, applyForwardProgram(slope !== undefined, count), [xv!, mean, variance, gamma, beta], [...geoU, first, count, base, { f: a.epsilon }, { f: slope ?? 0 }], yv.shape, yv);
  });
  return [y, mean, variance];
}

function backwardKernel({ inputs, backend: be, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, mean, variance, gamma, y } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', tf.TensorInfo> & { y?: tf.TensorInfo };
  const a = attrs as unknown as FusedNormKernelAttrs;
  const backend = be as Backend;
  const geo = geometry(FUSED_NORM_BACKWARD, x, a);
  checkChannels(FUSED_NORM_BACKWARD, geo, { gamma });
  const slope = fusedNormSlope(a);
  if (slope !== undefined && !y) throw new Error(`${FUSED_NORM_BACKWARD}: negativeSlope ${slope} needs the forward output as input y`);
  for (const [name, t] of [['mean', mean], ['variance', variance]] as const) {
    if (t.shape.reduce((p, d) => p * d, 1) !== geo.p) {
      throw new Error(`${FUSED_NORM_BACKWARD}: ${name} [${t.shape.join(', ')}] should hold ${geo.p} statistics for x [${x.shape.join(', ')}] with ${geo.g} groups${geo.across ? ' across the batch' : ''}`);
    }
  }
  const geoU = geometryValues(geo);
  const big = slope !== undefined ? [dy, x, y!] : [dy, x];
  // Column-sum inputs: dy, x, mean[, y].
  const sums = columnSums(backend, geo, 'bwd', slope, big, [mean], (b, s) => (slope !== undefined ? [b[0]!, b[1]!, s[0]!, b[2]!] : [b[0]!, b[1]!, s[0]!]));
  const dbeta = runWgsl(backend, paramGradProgram(geo, 'dbeta'), [sums], [...geoU, { f: a.epsilon }], [geo.c]);
  const dgamma = runWgsl(backend, paramGradProgram(geo, 'dgamma'), [sums, variance], [...geoU, { f: a.epsilon }], [geo.c]);
  const coef = runWgsl(backend, coefficientsProgram(geo), [sums, variance, gamma], [...geoU, geo.p, geo.count, { f: a.epsilon }], [2 * geo.p]);
  backend.disposeData(sums.dataId);
  const dx = backend.makeTensorInfo([...x.shape], 'float32');
  elementwise(backend, big, dx, (views, dxv, first, count, base) => {
    const ins = [views[0]!, views[1]!, mean, variance, gamma, coef];
    if (slope !== undefined) ins.push(views[2]!);
    runWgsl(backend, applyBackwardProgram(slope !== undefined, count), ins, [...geoU, geo.p, first, count, base, { f: a.epsilon }, { f: slope ?? 0 }], dxv.shape, dxv);
  });
  backend.disposeData(coef.dataId);
  return [dx, dgamma, dbeta];
}

function checkChannels(op: string, geo: Geometry, params: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(params)) {
    const size = t.shape.reduce((p, d) => p * d, 1);
    if (size !== geo.c) throw new Error(`${op}: ${name} [${t.shape.join(', ')}] must have ${geo.c} values (the channels of x)`);
  }
}

/** `VoxsegNormForward` on webgpu. */
export const fusedNormForwardConfig: tf.KernelConfig = { kernelName: FUSED_NORM_FORWARD, backendName: 'webgpu', kernelFunc: forwardKernel as unknown as tf.KernelFunc };
/** `VoxsegNormBackward` on webgpu. */
export const fusedNormBackwardConfig: tf.KernelConfig = { kernelName: FUSED_NORM_BACKWARD, backendName: 'webgpu', kernelFunc: backwardKernel as unknown as tf.KernelFunc };
/** Both fused norm kernels. */
export const fusedNormKernelConfigs: tf.KernelConfig[] = [fusedNormForwardConfig, fusedNormBackwardConfig];
