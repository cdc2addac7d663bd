import * as tf from '@tensorflow/tfjs-core';

/**
 * Conv3D forward, backprop-input and backprop-filter as implicit GEMMs in WGSL, channels-last.
 *
 * tfjs-backend-webgpu 4.22 runs Conv3D with one thread per output value looping over the whole
 * filter, and its filter gradient with one thread per filter weight looping over every output
 * position (864 threads for a 3x3x3 32->32 layer, whatever the volume). Here each is one matrix
 * product whose operands are read straight from the tensors (no im2col buffer):
 *
 * | kernel | M (rows) | N (cols) | K (reduction) | A[m, k] | B[k, n] |
 * |---|---|---|---|---|---|
 * | forward | N·OD·OH·OW | CO | KD·KH·KW·CI | x at the tap | filter, as stored `[K, CO]` |
 * | grad input | N·ID·IH·IW | CI | KD·KH·KW·CO | dy at the output the tap came from (0 where the stride skips it) | filter transposed per tap |
 * | grad filter | KD·KH·KW·CI | CO | N·OD·OH·OW | x at the tap | dy, as stored `[P, CO]` |
 *
 * Each workgroup (256 threads) computes a TM x TN tile of the result, staging TK-wide slices of
 * A and B in workgroup memory; each thread accumulates RM x RN values in registers. The grad
 * filter GEMM has a short M and N and a huge K, so it is split along K over the third dispatch
 * dimension (partial sums, then one reduction), which keeps the GPU full.
 */
export type ConvGemmMode = 'forward' | 'inputGrad' | 'filterGrad';

/** Tile sizes for a GEMM with `n` columns. */
export interface GemmTiles {
  TM: number;
  TN: number;
  TK: number;
  RM: number;
  RN: number;
  WX: number;
  WY: number;
}

/**
 * Tiles for a GEMM of `m` rows and `n` columns, 256 threads each. The column tile is the
 * smallest of 4, 8, 16, 32, 64 that holds `n` (narrow layers waste no columns), and the rows
 * per thread (RM) fill the remaining threads: tall tiles for narrow layers. A GEMM with few
 * rows (the filter gradient: 27·Cin rows) gets fewer rows per thread, down to one, so that a
 * 108-row GEMM (4 input channels) runs one 128-row tile, not a 256-row one of which 58% is idle.
 * TM always divides 256, and TK too (the loaders rely on it).
 */
export function gemmTiles(n: number, m = Infinity): GemmTiles {
  const TN = n <= 4 ? 4 : n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : 64;
  const RN = TN >= 32 ? 4 : TN >= 8 ? 2 : 1;
  const WX = TN / RN;
  const WY = 256 / WX;
  let RM = 4;
  while (RM > 1 && (WY * RM) / 2 >= m) RM /= 2;
  const TM = WY * RM;
  // Workgroup memory TK * (TM + TN) floats stays within WebGPU's guaranteed 16 KiB.
  const TK = TM >= 256 ? 8 : 16;
  return { TM, TN, TK, RM, RN, WX, WY };
}

/** Geometry uniforms shared by the three modes (names as in the WGSL below). */
const GEOMETRY = [
  'M', 'N', 'K', 'kChunk',
  'batch', 'inD', 'inH', 'inW', 'inC',
  'outD', 'outH', 'outW', 'outC',
  'fD', 'fH', 'fW',
  'sD', 'sH', 'sW',
  'pD', 'pH', 'pW',
  'dD', 'dH', 'dW',
  // Element shifts added to every index into the A operand's tensor (x or dy), the B
  // operand's (w or dy) and the output: non-zero when a batch chunk of a tensor larger than
  // one storage binding is bound as a sub-range (binding-split.ts).
  'aShift', 'bShift', 'oShift',
] as const;

/** The uniform struct fields of the conv programs (GEMM and direct), in {@link GEOMETRY} order. */
export const CONV_UNIFORMS = GEOMETRY.map((g) => `${g} : i32,`).join(' ');

/** A tfjs-backend-webgpu program (the fields `runWebGPUProgram` reads). */
export class ConvGemmProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  private readonly tiles: GemmTiles;

  /**
   * @param mode which GEMM
   * @param outputShape shape of the result (for filterGrad with `splits > 1`: `[splits, M, N]`)
   * @param m rows, @param n columns, @param k reduction length
   * @param splits K split count (filterGrad only)
   * @param unitStride inputGrad only: every stride is 1 (no divisibility test per tap)
   */
  constructor(
    readonly mode: ConvGemmMode,
    outputShape: number[],
    m: number,
    n: number,
    readonly splits: number,
    readonly unitStride = false,
  ) {
    this.outputShape = outputShape;
    this.tiles = gemmTiles(n, mode === 'filterGrad' ? m : Infinity);
    const t = this.tiles;
    this.variableNames = mode === 'forward' ? ['x', 'w'] : mode === 'inputGrad' ? ['dy', 'w'] : ['x', 'dy'];
    this.uniforms = CONV_UNIFORMS;
    this.workgroupSize = [t.WX, t.WY, 1];
    this.dispatchLayout = { x: [0] };
    const gx = Math.ceil(n / t.TN);
    const gm = Math.ceil(m / t.TM);
    // Row tiles beyond one dispatch dimension's limit (65535) continue in z (split-K uses z).
    const gy = splits > 1 ? gm : Math.min(gm, 32768);
    const gz = splits > 1 ? splits : Math.ceil(gm / gy);
    this.dispatch = [gx, gy, gz];
    this.shaderKey = `voxseg_conv3d_gemm_${mode}_${t.TM}_${t.TN}_${t.TK}_${splits > 1 ? 'split' : 'whole'}${mode === 'inputGrad' && unitStride ? '_unit' : ''}`;
  }

  getUserCode(): string {
    const { TM, TN, TK, RM, RN, WX, WY } = this.tiles;
    const threads = WX * WY;
    const mode = this.mode;
    const split = this.splits > 1;
    const unit = this.unitStride;
    // Which A-tile elements a thread loads. The tile is TM x TK, stored column-major in As.
    // forward / inputGrad: k runs fastest across threads (channels are contiguous in x / dy), and
    // as TK divides the thread count each thread keeps one column: its k, and so the tap and
    // channel decomposed from it (div/mod), is computed once per K-tile, not once per element.
    // filterGrad: m runs fastest (its m ends in the input channel, contiguous in x); TM divides
    // the thread count, so each thread keeps one row and the per-column decomposition of the
    // position k (n, od, oh, ow) comes from a small table in workgroup memory that TK threads
    // fill once per K-tile (double-buffered, so no extra barrier).
    const LA = Math.ceil((TM * TK) / threads);
    const LB = Math.ceil((TK * TN) / threads);
    const aStep = mode === 'filterGrad' ? threads / TM : threads / TK;
    const aGuard = LA * threads > TM * TK;
    let decl = '';
    let pre: string;
    let perTile: string;
    let loadA: string;
    if (mode === 'forward') {
      pre = rowTable(LA, TK, aStep, 'out', 'inD', 'od * uniforms.sD - uniforms.pD', 'oh * uniforms.sH - uniforms.pH', 'ow * uniforms.sW - uniforms.pW');
      perTile = tapOfColumn('inC', 'ci');
      loadA = `
            let row = tid / ${TK} + i * ${aStep};
            var v = 0.0;
            let id = rD[i] + offD; let ih = rH[i] + offH; let iw = rW[i] + offW;
            if (kOk && rValid[i] && id >= 0 && id < uniforms.inD && ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
              v = x[(((rBase[i] + id) * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci + uniforms.aShift];
            }
            As[aCol * ${TM} + row] = v;`;
    } else if (mode === 'inputGrad') {
      pre = rowTable(LA, TK, aStep, 'in', 'outD', 'id + uniforms.pD', 'ih + uniforms.pH', 'iw + uniforms.pW');
      perTile = tapOfColumn('outC', 'co');
      // The output position a tap came from: (input + pad - tap) / stride, where divisible. A
      // unit-stride conv (most of a U-Net's) skips the divisibility test and the division.
      const fromTap = unit
        ? `let od = rD[i] - offD; let oh = rH[i] - offH; let ow = rW[i] - offW;
            if (kOk && rValid[i] && od >= 0 && oh >= 0 && ow >= 0 && od < uniforms.outD && oh < uniforms.outH && ow < uniforms.outW) {`
        : `let td = rD[i] - offD; let th = rH[i] - offH; let tw = rW[i] - offW;
            let od = td / uniforms.sD; let oh = th / uniforms.sH; let ow = tw / uniforms.sW;
            if (kOk && rValid[i] && td >= 0 && th >= 0 && tw >= 0 && od * uniforms.sD == td && oh * uniforms.sH == th && ow * uniforms.sW == tw &&
                od < uniforms.outD && oh < uniforms.outH && ow < uniforms.outW) {`;
      loadA = `
            let row = tid / ${TK} + i * ${aStep};
            var v = 0.0;
            ${fromTap}
              v = dy[(((rBase[i] + od) * uniforms.outH + oh) * uniforms.outW + ow) * uniforms.outC + co + uniforms.aShift];
            }
            As[aCol * ${TM} + row] = v;`;
    } else {
      // Per K column of the tile: (first input depth index of the sample n, od*sD, oh*sH, ow*sW),
      // or n = -1 past the end of this workgroup's K range.
      decl = `var<workgroup> Kt : array<vec4<i32>, ${2 * TK}>;
      fn position(gk : i32, kEnd : i32) -> vec4<i32> {
        if (gk >= kEnd) { return vec4<i32>(-1, 0, 0, 0); }
        let ow = gk % uniforms.outW; var t = gk / uniforms.outW;
        let oh = t % uniforms.outH; t = t / uniforms.outH;
        let od = t % uniforms.outD; let n = t / uniforms.outD;
        return vec4<i32>(n * uniforms.inD, od * uniforms.sD, oh * uniforms.sH, ow * uniforms.sW);
      }`;
      pre = `
        let aRow = tid % ${TM};
        let gmA = tileM + aRow;
        let ci = gmA % uniforms.inC; var t = gmA / uniforms.inC;
        let kw = t % uniforms.fW; t = t / uniforms.fW;
        let kh = t % uniforms.fH; let kd = t / uniforms.fH;
        let rValid = gmA < uniforms.M;
        let rD = kd * uniforms.dD - uniforms.pD; let rH = kh * uniforms.dH - uniforms.pH; let rW = kw * uniforms.dW - uniforms.pW;
        if (tid < ${TK}) { Kt[tid] = position(kBegin + tid, kEnd); }
        workgroupBarrier();`;
      perTile = `
          let buf = (kt % 2) * ${TK};
          if (tid < ${TK}) { Kt[${TK} - buf + tid] = position(k0 + ${TK} + tid, kEnd); }`;
      loadA = `
            let col = tid / ${TM} + i * ${aStep};
            let p = Kt[buf + col];
            var v = 0.0;
            let id = p.y + rD; let ih = p.z + rH; let iw = p.w + rW;
            if (rValid && p.x >= 0 && id >= 0 && id < uniforms.inD && ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
              v = x[(((p.x + id) * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci + uniforms.aShift];
            }
            As[col * ${TM} + aRow] = v;`;
    }
    let loadB: string;
    if (mode === 'forward') {
      loadB = `if (gk < uniforms.K && gn < uniforms.N) { v = w[gk * uniforms.N + gn + uniforms.bShift]; }`;
    } else if (mode === 'inputGrad') {
      // B[k = (tap, co), n = ci] = w[tap, ci, co]
      loadB = `if (gk < uniforms.K && gn < uniforms.N) {
          let co = gk % uniforms.outC; let tap = gk / uniforms.outC;
          v = w[(tap * uniforms.inC + gn) * uniforms.outC + co + uniforms.bShift];
        }`;
    } else {
      loadB = `if (gk < kEnd && gn < uniforms.N) { v = dy[gk * uniforms.N + gn + uniforms.bShift]; }`;
    }
    const bRowCol = mode === 'inputGrad' ? `let row = e % ${TK}; let col = e / ${TK};` : `let row = e / ${TN}; let col = e % ${TN};`;
    // The filter gradient's table for the next tile is written after the loads of this one
    // (first barrier) and read after the second: both buffers are never in use at once.
    const [tableBeforeLoads, tableAfterLoads] = mode === 'filterGrad' ? ['let buf = (kt % 2) * ' + TK + ';', perTile.replace(/let buf = [^;]*;/, '')] : [perTile, ''];
    return `
      var<workgroup> As : array<f32, ${TK * TM}>;
      var<workgroup> Bs : array<f32, ${TK * TN}>;
      ${decl}

      ${getMain()} {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * ${WX} + tx;
        let tileN = i32(workgroupId.x) * ${TN};
        ${split ? `let tileM = i32(workgroupId.y) * ${TM};` : `let tileM = (i32(workgroupId.y) + i32(workgroupId.z) * i32(numWorkgroups.y)) * ${TM};`}
        ${split ? `let kBegin = i32(workgroupId.z) * uniforms.kChunk; let kEnd = min(uniforms.K, kBegin + uniforms.kChunk);` : `let kBegin = 0; let kEnd = uniforms.K;`}
        ${pre}

        var acc : array<f32, ${RM * RN}>;
        // The trip count comes from a uniform: WGSL requires barriers in uniform control flow.
        let kTiles = (uniforms.kChunk + ${TK - 1}) / ${TK};
        for (var kt = 0; kt < kTiles; kt++) {
          let k0 = kBegin + kt * ${TK};
          ${tableBeforeLoads}
          for (var i = 0; i < ${LA}; i++) {
            ${aGuard ? `if (${mode === 'filterGrad' ? `tid / ${TM}` : `tid / ${TK}`} + i * ${aStep} < ${mode === 'filterGrad' ? TK : TM}) {` : '{'}
            ${loadA}
            }
          }
          for (var i = 0; i < ${LB}; i++) {
            let e = i * ${threads} + tid;
            if (e < ${TK * TN}) {
              ${bRowCol}
              let gk = k0 + row;
              let gn = tileN + col;
              var v = 0.0;
              ${loadB}
              Bs[row * ${TN} + col] = v;
            }
          }
          workgroupBarrier();
          ${tableAfterLoads}
          for (var kk = 0; kk < ${TK}; kk++) {
            var a : array<f32, ${RM}>;
            for (var r = 0; r < ${RM}; r++) { a[r] = As[kk * ${TM} + ty + r * ${WY}]; }
            for (var c = 0; c < ${RN}; c++) {
              let b = Bs[kk * ${TN} + tx + c * ${WX}];
              for (var r = 0; r < ${RM}; r++) { acc[r * ${RN} + c] = fma(a[r], b, acc[r * ${RN} + c]); }
            }
          }
          workgroupBarrier();
        }

        ${split ? `let outBase = i32(workgroupId.z) * uniforms.M * uniforms.N;` : `let outBase = 0;`}
        for (var r = 0; r < ${RM}; r++) {
          let gm = tileM + ty + r * ${WY};
          if (gm < uniforms.M) {
            for (var c = 0; c < ${RN}; c++) {
              let gn = tileN + tx + c * ${WX};
              if (gn < uniforms.N) { result[outBase + gm * uniforms.N + gn + uniforms.oShift] = acc[r * ${RN} + c]; }
            }
          }
        }
      }
    `;
  }
}

/**
 * tfjs's shader prelude calls `main(globalIndex)` for a one-axis dispatch layout; the tile
 * position comes from the workgroup id instead, so the index is unused.
 */
function getMain(): string {
  return 'fn main(_flatIndex : i32)';
}

/** The geometry uniforms of a conv, in {@link GEOMETRY} order. */
export function convUniforms(
  info: tf.backend_util.Conv3DInfo,
  m: number,
  n: number,
  k: number,
  kChunk: number,
  shifts: { a: number; b: number; o: number } = { a: 0, b: 0, o: 0 },
): { type: string; data: number[] }[] {
  const p = info.padInfo;
  const values = [
    m, n, k, kChunk,
    info.batchSize, info.inDepth, info.inHeight, info.inWidth, info.inChannels,
    info.outDepth, info.outHeight, info.outWidth, info.outChannels,
    info.filterDepth, info.filterHeight, info.filterWidth,
    info.strideDepth, info.strideHeight, info.strideWidth,
    p.front, p.top, p.left,
    info.dilationDepth, info.dilationHeight, info.dilationWidth,
    shifts.a, shifts.b, shifts.o,
  ];
  return values.map((v) => ({ type: 'int32', data: [v] }));
}

/**
 * The A loader's per-row table for the forward and input-gradient GEMMs: each thread's rows
 * (positions on the `grid`, 'out' or 'in') decomposed once into the sample's base depth index
 * (`n * uniforms.<base>`) and the start of the window on each axis (`d`, `h`, `w`, WGSL over
 * the position's `od/oh/ow` or `id/ih/iw`).
 */
function rowTable(LA: number, TK: number, aStep: number, grid: 'out' | 'in', base: string, d: string, h: string, w: string): string {
  const [pd, ph, pw] = grid === 'out' ? ['od', 'oh', 'ow'] : ['id', 'ih', 'iw'];
  const [D, H, W] = grid === 'out' ? ['outD', 'outH', 'outW'] : ['inD', 'inH', 'inW'];
  return `
        let aCol = tid % ${TK};
        var rValid : array<bool, ${LA}>;
        var rBase : array<i32, ${LA}>;
        var rD : array<i32, ${LA}>;
        var rH : array<i32, ${LA}>;
        var rW : array<i32, ${LA}>;
        for (var i = 0; i < ${LA}; i++) {
          let gm = tileM + tid / ${TK} + i * ${aStep};
          var ${pw} = gm % uniforms.${W}; var t = gm / uniforms.${W};
          let ${ph} = t % uniforms.${H}; t = t / uniforms.${H};
          let ${pd} = t % uniforms.${D}; let n = t / uniforms.${D};
          rValid[i] = gm < uniforms.M;
          rBase[i] = n * uniforms.${base}; rD[i] = ${d}; rH[i] = ${h}; rW[i] = ${w};
        }`;
}

/** Once per K-tile: this thread's column k0 + aCol decomposed into (kd, kh, kw, channel `ch` of `channels`). */
function tapOfColumn(channels: 'inC' | 'outC', ch: string): string {
  return `
          let gk = k0 + aCol;
          let kOk = gk < uniforms.K;
          let ${ch} = gk % uniforms.${channels}; var tk = gk / uniforms.${channels};
          let kw = tk % uniforms.fW; tk = tk / uniforms.fW;
          let kh = tk % uniforms.fH; let kd = tk / uniforms.fH;
          let offD = kd * uniforms.dD; let offH = kh * uniforms.dH; let offW = kw * uniforms.dW;`;
}
