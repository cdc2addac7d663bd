/**
 * Conv3D forward, backprop-input and backprop-filter for few channels (the GEMM's N: forward CO,
 * grad input CI, grad filter CO, up to {@link DIRECT_MAX_CHANNELS}), as direct convolutions in
 * WGSL, channels-last: no workgroup memory, no barriers, index arithmetic per tap rather than
 * per element.
 *
 * Why not the implicit GEMM (conv3d-gemm.ts) there: with N = 4-16 columns each A element staged
 * in workgroup memory serves only N multiply-adds, so the tile's index arithmetic, stores and
 * barriers cost more than the arithmetic; the layers with few channels (a U-Net's first and last
 * stages, its 4-channel input, the 1x1x1 heads) are bound by reading their activations. And a
 * barrier is dear on a CPU driver (measured on SwiftShader: the GEMM's filter gradient of a
 * 32^3 4->4 layer took 4.1 s, of a 1x1x1 4->3 head, almost no arithmetic, 2.6 s; these kernels
 * 0.28 s and 0.02 s).
 *
 * | kernel | one thread computes | reduction, in order |
 * |---|---|---|
 * | forward | y[m, n0..n0+C) at output position m | taps inside the input × CI |
 * | grad input | dx[m, n0..n0+C) at input position m | taps whose output position exists (stride divides) × CO |
 * | grad filter | dw[tap, ci, n0..n0+C) | the output positions of its chunk (dispatch z), walked with a carry |
 *
 * Neighbouring threads read neighbouring activations (positions, or input channels for the
 * filter gradient); the filter (forward, grad input) and dy (grad filter) values a thread reads
 * are the same for every thread of a workgroup, one broadcast read on a GPU.
 */
import type { ConvGemmMode } from './conv3d-gemm.js';

/** The most output channels one thread accumulates (registers per thread). */
export const DIRECT_MAX_CHANNELS = 16;

/** Channels per thread for `n` output channels: 4, 8 or 16 (the next of those at or above n). */
export function directChannels(n: number): number {
  return n <= 4 ? 4 : n <= 8 ? 8 : 16;
}

/** Threads per workgroup. */
const THREADS = 64;

/** The direct kernels: forward, grad input, and the filter gradient over a chunk of positions. */
export type ConvDirectMode = ConvGemmMode;

/** `n` channels in blocks of `c`: the per-thread column expressions, unrolled (no private arrays). */
function columns(c: number): { cols: string; acc: string; write: (index: (k: number) => string) => string } {
  const v = c / 4;
  const cols = Array.from({ length: c }, (_, k) => `let c${k} = min(n0 + ${k}, uniforms.N - 1);`).join(' ');
  const acc = Array.from({ length: v }, (_, j) => `var a${j} = vec4<f32>(0.0);`).join(' ');
  const write = (index: (k: number) => string) =>
    Array.from({ length: c }, (_, k) => `if (n0 + ${k} < uniforms.N) { result[${index(k)}] = a${k >> 2}[${k & 3}]; }`).join('\n        ');
  return { cols, acc, write };
}

/** `a_j = fma(vec4(s), vec4(read(4j..4j+3)), a_j)` for every accumulator, unrolled. */
function fmas(c: number, scalar: string, read: (k: number) => string): string {
  return Array.from({ length: c / 4 }, (_, j) => {
    const v = [0, 1, 2, 3].map((i) => read(4 * j + i)).join(', ');
    return `a${j} = fma(vec4<f32>(${scalar}), vec4<f32>(${v}), a${j});`;
  }).join('\n                ');
}

/**
 * A tfjs-backend-webgpu program (the fields `runWebGPUProgram` reads); uniforms as the GEMM's.
 * Accumulators are `vec4` locals and every per-channel statement is unrolled here: a private
 * array indexed in a loop is memory on some drivers (SwiftShader: per-lane loads and stores).
 */
export class ConvDirectProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly channels: number;

  /**
   * @param mode `forward`, `inputGrad` or `filterGrad`
   * @param outputShape shape of the result (filterGrad with `splits > 1`: `[splits, M, N]`)
   * @param m rows: output positions (forward), input positions (grad input), taps × CI (grad filter)
   * @param n channels per row: CO, CI, CO
   * @param uniformDecl the uniform struct fields (shared with the GEMM: same values, same order)
   * @param unitStride inputGrad only: every stride is 1 (no divisibility test per tap)
   * @param splits filterGrad only: position chunks (the dispatch's z), each writing its partial sums
   */
  constructor(
    readonly mode: ConvDirectMode,
    outputShape: number[],
    m: number,
    n: number,
    uniformDecl: string,
    readonly unitStride = false,
    readonly splits = 1,
  ) {
    this.outputShape = outputShape;
    this.channels = directChannels(n);
    this.variableNames = mode === 'forward' ? ['x', 'w'] : mode === 'inputGrad' ? ['dy', 'w'] : ['x', 'dy'];
    this.uniforms = uniformDecl;
    const blocks = Math.ceil(n / this.channels);
    const groups = Math.ceil(m / THREADS);
    if (mode === 'filterGrad') {
      this.dispatch = [groups, blocks, splits];
    } else {
      // Position groups beyond one dispatch dimension's limit (65535) continue in z.
      const gx = Math.min(groups, 32768);
      this.dispatch = [gx, blocks, Math.ceil(groups / gx)];
    }
    this.shaderKey = `voxseg_conv3d_direct_${mode}_${this.channels}${mode === 'inputGrad' && unitStride ? '_unit' : ''}${splits > 1 ? '_split' : ''}`;
  }

  getUserCode(): string {
    const C = this.channels;
    const { cols, acc, write } = columns(C);
    const rowIndex =
      this.mode === 'filterGrad'
        ? `i32(workgroupId.x) * ${THREADS} + i32(localId.x)`
        : `(i32(workgroupId.x) + i32(workgroupId.z) * i32(numWorkgroups.x)) * ${THREADS} + i32(localId.x)`;
    // The channel block's last columns may lie past N: their filter / dy reads are clamped to
    // column N - 1 (inside the tensor) and their sums never written.
    const head = `
        let m = ${rowIndex};
        let n0 = i32(workgroupId.y) * ${C};
        if (m >= uniforms.M) { return; }
        ${cols}
        ${acc}`;
    if (this.mode === 'forward') {
      return `
      fn main(_flatIndex : i32) {
        ${head}
        var t = m;
        let ow = t % uniforms.outW; t = t / uniforms.outW;
        let oh = t % uniforms.outH; t = t / uniforms.outH;
        let od = t % uniforms.outD; let n = t / uniforms.outD;
        let d0 = od * uniforms.sD - uniforms.pD; let h0 = oh * uniforms.sH - uniforms.pH; let w0 = ow * uniforms.sW - uniforms.pW;
        for (var kd = 0; kd < uniforms.fD; kd++) {
          let id = d0 + kd * uniforms.dD;
          if (id < 0 || id >= uniforms.inD) { continue; }
          for (var kh = 0; kh < uniforms.fH; kh++) {
            let ih = h0 + kh * uniforms.dH;
            if (ih < 0 || ih >= uniforms.inH) { continue; }
            for (var kw = 0; kw < uniforms.fW; kw++) {
              let iw = w0 + kw * uniforms.dW;
              if (iw < 0 || iw >= uniforms.inW) { continue; }
              let xBase = (((n * uniforms.inD + id) * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + uniforms.aShift;
              let wBase = ((kd * uniforms.fH + kh) * uniforms.fW + kw) * uniforms.inC;
              for (var ci = 0; ci < uniforms.inC; ci++) {
                let xv = x[xBase + ci];
                let wr = (wBase + ci) * uniforms.N + uniforms.bShift;
                ${fmas(C, 'xv', (k) => `w[wr + c${k}]`)}
              }
            }
          }
        }
        ${write((k) => `m * uniforms.N + n0 + ${k} + uniforms.oShift`)}
      }`;
    }
    if (this.mode === 'inputGrad') {
      // The output position a tap came from: od = (id + pD - kd·dD) / sD where it divides and lies inside.
      const axis = (o: string, i: string, s: string, p: string, k: string, dil: string, size: string) =>
        this.unitStride
          ? `let ${o} = ${i} + uniforms.${p} - ${k} * uniforms.${dil};
            if (${o} < 0 || ${o} >= uniforms.${size}) { continue; }`
          : `let t${o} = ${i} + uniforms.${p} - ${k} * uniforms.${dil};
            if (t${o} < 0) { continue; }
            let ${o} = t${o} / uniforms.${s};
            if (${o} * uniforms.${s} != t${o} || ${o} >= uniforms.${size}) { continue; }`;
      // w[tap, ci, co]: this thread's channels are ci = c_k, so w[(tap·CI + c_k)·CO + co].
      const wRows = Array.from({ length: C }, (_, k) => `let w${k} = (wTap + c${k}) * uniforms.outC + uniforms.bShift;`).join(' ');
      return `
      fn main(_flatIndex : i32) {
        ${head}
        var t = m;
        let iw = t % uniforms.inW; t = t / uniforms.inW;
        let ih = t % uniforms.inH; t = t / uniforms.inH;
        let id = t % uniforms.inD; let n = t / uniforms.inD;
        for (var kd = 0; kd < uniforms.fD; kd++) {
          ${axis('od', 'id', 'sD', 'pD', 'kd', 'dD', 'outD')}
          for (var kh = 0; kh < uniforms.fH; kh++) {
            ${axis('oh', 'ih', 'sH', 'pH', 'kh', 'dH', 'outH')}
            for (var kw = 0; kw < uniforms.fW; kw++) {
              ${axis('ow', 'iw', 'sW', 'pW', 'kw', 'dW', 'outW')}
              let gBase = (((n * uniforms.outD + od) * uniforms.outH + oh) * uniforms.outW + ow) * uniforms.outC + uniforms.aShift;
              let wTap = ((kd * uniforms.fH + kh) * uniforms.fW + kw) * uniforms.inC;
              ${wRows}
              for (var co = 0; co < uniforms.outC; co++) {
                let g = dy[gBase + co];
                ${fmas(C, 'g', (k) => `w[w${k} + co]`)}
              }
            }
          }
        }
        ${write((k) => `m * uniforms.N + n0 + ${k} + uniforms.oShift`)}
      }`;
    }
    // Filter gradient: row m = (kd, kh, kw, ci), columns co; the sum over this workgroup's chunk
    // of output positions [p0, p1), walked in order with a carry (no division per position).
    const split = this.splits > 1;
    return `
      fn main(_flatIndex : i32) {
        ${head}
        let ci = m % uniforms.inC; var t = m / uniforms.inC;
        let kw = t % uniforms.fW; t = t / uniforms.fW;
        let kh = t % uniforms.fH; let kd = t / uniforms.fH;
        let rD = kd * uniforms.dD - uniforms.pD; let rH = kh * uniforms.dH - uniforms.pH; let rW = kw * uniforms.dW - uniforms.pW;
        let p0 = ${split ? 'i32(workgroupId.z) * uniforms.kChunk' : '0'};
        let p1 = min(uniforms.K, p0 + uniforms.kChunk);
        var ow = p0 % uniforms.outW; var q = p0 / uniforms.outW;
        var oh = q % uniforms.outH; q = q / uniforms.outH;
        var od = q % uniforms.outD; var n = q / uniforms.outD;
        for (var p = p0; p < p1; p++) {
          let id = od * uniforms.sD + rD; let ih = oh * uniforms.sH + rH; let iw = ow * uniforms.sW + rW;
          if (id >= 0 && id < uniforms.inD && ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
            let xv = x[(((n * uniforms.inD + id) * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci + uniforms.aShift];
            let g = p * uniforms.N + uniforms.bShift;
            ${fmas(C, 'xv', (k) => `dy[g + c${k}]`)}
          }
          ow++;
          if (ow == uniforms.outW) {
            ow = 0; oh++;
            if (oh == uniforms.outH) {
              oh = 0; od++;
              if (od == uniforms.outD) { od = 0; n++; }
            }
          }
        }
        ${write((k) => `${split ? 'i32(workgroupId.z) * uniforms.M * uniforms.N + ' : ''}m * uniforms.N + n0 + ${k} + uniforms.oShift`)}
      }`;
  }
}
