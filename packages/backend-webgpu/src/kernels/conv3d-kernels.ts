import * as tf from '@tensorflow/tfjs-core';
import { maxBindingElements, runningSum, type ViewBackend, withViews } from './binding-split.js';
import { ConvDirectProgram, DIRECT_MAX_CHANNELS, directChannels } from './conv3d-direct.js';
import { CONV_UNIFORMS, ConvGemmProgram, convUniforms, gemmTiles } from './conv3d-gemm.js';
import { runWgsl, WgslProgram } from './wgsl-program.js';

/** The part of tfjs-backend-webgpu's backend the kernels use. */
export interface WebGPUProgramRunner extends tf.KernelBackend {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: { type: string; data: number[] }[], output?: tf.TensorInfo): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  device: GPUDevice;
}

type Pad = 'same' | 'valid' | number;
const triple = (v: number | number[]): [number, number, number] => (Array.isArray(v) ? [v[0]!, v[1]!, v[2]!] : [v, v, v]);

/** How many K-slices the filter gradient runs in: enough workgroups to fill a GPU (~512). */
export { gemmTiles };

/** How many K-slices the filter gradient runs in: enough workgroups to fill a GPU (~512). */
export function filterGradSplits(m: number, n: number, k: number): number {
  const t = gemmTiles(n, m);
  const tiles = Math.ceil(m / t.TM) * Math.ceil(n / t.TN);
  // At least 8 K-tiles per slice, so the reduction of partial sums stays small.
  const maxSplits = Math.max(1, Math.floor(k / (t.TK * 8)));
  return Math.max(1, Math.min(maxSplits, Math.ceil(512 / tiles), 1024));
}

type Shifts = { a: number; b: number; o: number };
const NO_SHIFT: Shifts = { a: 0, b: 0, o: 0 };

/** Which kernels run the three convs: `auto` (by channel count), or one kind for all (tests, benchmarks). */
export type ConvKernelChoice = 'auto' | 'gemm' | 'direct';
let choice: ConvKernelChoice = 'auto';

/** Force the conv kernels' kind (`auto` restores the default). For tests and benchmarks. */
export function setConvKernelChoice(c: ConvKernelChoice): void {
  choice = c;
}

/**
 * Whether a conv GEMM with `n` columns (forward: CO, grad input: CI, grad filter: CO) runs as a
 * direct convolution rather than the implicit GEMM.
 */
export function usesDirectConv(n: number): boolean {
  return choice === 'direct' || (choice === 'auto' && n <= DIRECT_MAX_CHANNELS);
}

function forward(x: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, out?: tf.TensorInfo, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const n = info.outChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const program = usesDirectConv(n)
    ? new ConvDirectProgram('forward', [...info.outShape], m, n, CONV_UNIFORMS)
    : new ConvGemmProgram('forward', [...info.outShape], m, n, 1);
  return backend.runWebGPUProgram(program, [x, w], 'float32', convUniforms(info, m, n, k, k, shifts), out);
}

function inputGrad(dy: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, out?: tf.TensorInfo, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.batchSize * info.inDepth * info.inHeight * info.inWidth;
  const n = info.inChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.outChannels;
  // The transposed conv's padding: the forward conv's, seen from the input side.
  const unit = info.strideDepth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
  const program = usesDirectConv(n)
    ? new ConvDirectProgram('inputGrad', [...info.inShape], m, n, CONV_UNIFORMS, unit)
    : new ConvGemmProgram('inputGrad', [...info.inShape], m, n, 1, unit);
  return backend.runWebGPUProgram(program, [dy, w], 'float32', convUniforms(info, m, n, k, k, shifts), out);
}

/**
 * Position chunks of the direct filter gradient: enough for about 32k threads (a GPU's worth),
 * each chunk at least 64 positions long.
 */
export function directFilterGradSplits(m: number, n: number, k: number): number {
  const threads = Math.ceil(m / 64) * 64 * Math.ceil(n / directChannels(n));
  return Math.max(1, Math.min(Math.ceil(k / 64), Math.ceil(32768 / threads)));
}

function filterGrad(x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const direct = usesDirectConv(n);
  // The [splits, M, N] partial sums are one binding too: no more slices than fit.
  const splits = Math.min(direct ? directFilterGradSplits(m, n, k) : filterGradSplits(m, n, k), Math.max(1, Math.floor(maxBindingElements(backend) / (m * n))));
  const tk = direct ? 1 : gemmTiles(n, m).TK;
  const kChunk = Math.ceil(k / splits / tk) * tk;
  const used = Math.ceil(k / kChunk);
  const program = (outShape: number[], parts: number) =>
    direct ? new ConvDirectProgram('filterGrad', outShape, m, n, CONV_UNIFORMS, false, parts) : new ConvGemmProgram('filterGrad', outShape, m, n, parts);
  if (used === 1) {
    return backend.runWebGPUProgram(program([...info.filterShape], 1), [x, dy], 'float32', convUniforms(info, m, n, k, k, shifts));
  }
  const partial = backend.runWebGPUProgram(program([used, m, n], used), [x, dy], 'float32', convUniforms(info, m, n, k, kChunk, shifts));
  const out = sumPartials(backend, partial, used, m * n, [...info.filterShape]);
  backend.disposeData(partial.dataId);
  return out;
}

/**
 * The sum of `parts` partial filter gradients `[parts, size]`: one thread per weight adding its
 * partials in order (neighbouring threads read neighbouring values). tfjs's `Sum` over axis 0
 * would transpose first, then reduce each weight's few partials with a whole workgroup and a
 * tree of barriers (measured on SwiftShader: 0.8 s for 8 partials of a 16->16 3x3x3 filter).
 */
function sumPartials(backend: WebGPUProgramRunner, partial: tf.TensorInfo, parts: number, size: number, shape: number[]): tf.TensorInfo {
  const threads = 64;
  const program = new WgslProgram('VoxsegSumPartials', 'voxseg_sum_partials', ['partial'], size, ['size', 'parts'], Math.ceil(size / threads), threads, `
        let i = workgroupIndex() * ${threads} + i32(localId.x);
        if (i >= uniforms.size) { return; }
        var s = 0.0;
        for (var p = 0; p < uniforms.parts; p++) { s = s + partial[p * uniforms.size + i]; }
        result[i] = s;`);
  return runWgsl(backend, program, [partial], [size, parts], shape);
}

/**
 * Samples per piece when the batch's activations exceed one storage binding (else the whole
 * batch); 0 when one sample alone is larger than a binding (then it runs in depth slabs).
 * `a` and `b` are the elements per sample of the two batch-sized tensors.
 */
function samplesPerPiece(backend: WebGPUProgramRunner, batch: number, a: number, b: number): number {
  const maxEl = maxBindingElements(backend);
  if (batch * Math.max(a, b) <= maxEl) return batch;
  return Math.floor(maxEl / Math.max(a, b));
}

/**
 * One depth slab of one sample: a conv of batch 1 whose rows are depths `[r0, r1)` of the
 * GEMM's row tensor (the output for forward and filter gradient, the input for the input
 * gradient) and whose A operand is depths `[a0, a1)` of the other activation.
 */
export interface Slab {
  info: tf.backend_util.Conv3DInfo;
  r0: number;
  r1: number;
  a0: number;
  a1: number;
}

const clampRange = (lo: number, hi: number, size: number): [number, number] => {
  const a = Math.min(Math.max(lo, 0), size - 1);
  return [a, Math.min(Math.max(hi, a + 1), size)];
};

/**
 * The slab `[r0, r1)` as its own conv. Channels-last makes a depth range of one sample one
 * contiguous range of elements, so it can be bound alone. The A range covers every plane a
 * tap of the slab can reach (the kernel's halo, stride and dilation); taps outside it are
 * exactly the ones outside the volume, i.e. the padding. The sub-conv's front padding is
 * shifted so that each tap reads the same element as in the whole conv, and is rejected by the
 * same bounds test: each output sums the same terms in the same order (identical bits).
 *
 * - rows are output depths (forward, filter grad): id = od·sD − pD + kd·dD, so the slab reads
 *   input planes [r0·sD − pD, (r1−1)·sD − pD + (fD−1)·dD]; pD' = pD + a0 − r0·sD.
 * - rows are input depths (input grad): od = (id + pD − kd·dD) / sD where divisible, so the
 *   slab reads dy planes [⌈(r0 + pD − (fD−1)·dD) / sD⌉, ⌊(r1 − 1 + pD) / sD⌋];
 *   pD' = pD + r0 − a0·sD (the shift by a0·sD keeps the divisibility test unchanged).
 */
function slab(info: tf.backend_util.Conv3DInfo, rowsAreOutput: boolean, r0: number, r1: number): Slab {
  const { strideDepth: sD, dilationDepth: dD, filterDepth: fD, inDepth, outDepth } = info;
  const pD = info.padInfo.front;
  let a0: number;
  let a1: number;
  let front: number;
  let shapes: { inD: number; outD: number };
  if (rowsAreOutput) {
    [a0, a1] = clampRange(r0 * sD - pD, (r1 - 1) * sD - pD + (fD - 1) * dD + 1, inDepth);
    front = pD + a0 - r0 * sD;
    shapes = { inD: a1 - a0, outD: r1 - r0 };
  } else {
    [a0, a1] = clampRange(Math.ceil((r0 + pD - (fD - 1) * dD) / sD), Math.floor((r1 - 1 + pD) / sD) + 1, outDepth);
    front = pD + r0 - a0 * sD;
    shapes = { inD: r1 - r0, outD: a1 - a0 };
  }
  const [, , ih, iw, ic] = info.inShape;
  const [, , oh, ow, oc] = info.outShape;
  const sub: tf.backend_util.Conv3DInfo = {
    ...info,
    batchSize: 1,
    inDepth: shapes.inD,
    outDepth: shapes.outD,
    inShape: [1, shapes.inD, ih, iw, ic],
    outShape: [1, shapes.outD, oh, ow, oc],
    padInfo: { ...info.padInfo, front },
  };
  return { info: sub, r0, r1, a0, a1 };
}

/**
 * The depth slabs of one sample: the most row planes per slab such that every slab's row
 * range and A range each fit `maxEl` floats. Throws (one line) when even one plane does not fit.
 */
export function depthSlabs(maxEl: number, kernel: string, info: tf.backend_util.Conv3DInfo, rowsAreOutput: boolean): Slab[] {
  const inPlane = info.inHeight * info.inWidth * info.inChannels;
  const outPlane = info.outHeight * info.outWidth * info.outChannels;
  const [rows, rowPlane, aPlane] = rowsAreOutput ? [info.outDepth, outPlane, inPlane] : [info.inDepth, inPlane, outPlane];
  const plan = (per: number): Slab[] => {
    const out: Slab[] = [];
    for (let r0 = 0; r0 < rows; r0 += per) out.push(slab(info, rowsAreOutput, r0, Math.min(rows, r0 + per)));
    return out;
  };
  const fits = (s: Slab) => (s.r1 - s.r0) * rowPlane <= maxEl && (s.a1 - s.a0) * aPlane <= maxEl;
  for (let per = Math.min(rows, Math.floor(maxEl / rowPlane)); per >= 1; per--) {
    const slabs = plan(per);
    if (slabs.every(fits)) return slabs;
  }
  throw new Error(
    `${kernel} on webgpu: one depth plane's slab (${rowPlane * 4} bytes of rows, ${aPlane * 4} bytes per plane of its input, ` +
      `with the kernel's halo) exceeds the storage-binding limit (${maxEl * 4} float32 bytes); ` +
      `use a smaller patch or a device with a larger maxStorageBufferBindingSize`,
  );
}

/**
 * Run `run` over every depth slab of every sample, with views of the slab's row range (in
 * tensor `r`) and A range (in tensor `a`), and the element shifts that map the sub-conv's
 * indices into those views.
 */
function overSlabs(
  backend: WebGPUProgramRunner,
  kernel: string,
  info: tf.backend_util.Conv3DInfo,
  rowsAreOutput: boolean,
  a: tf.TensorInfo,
  r: tf.TensorInfo,
  run: (s: Slab, aView: tf.TensorInfo, rView: tf.TensorInfo, shifts: { a: number; r: number }) => void,
): void {
  const slabs = depthSlabs(maxBindingElements(backend), kernel, info, rowsAreOutput);
  const inPlane = info.inHeight * info.inWidth * info.inChannels;
  const outPlane = info.outHeight * info.outWidth * info.outChannels;
  const [rowD, rowPlane, aD, aPlane] = rowsAreOutput
    ? [info.outDepth, outPlane, info.inDepth, inPlane]
    : [info.inDepth, inPlane, info.outDepth, outPlane];
  const vb = backend as unknown as ViewBackend;
  for (let n = 0; n < info.batchSize; n++) {
    for (const s of slabs) {
      const aFirst = (n * aD + s.a0) * aPlane;
      const rFirst = (n * rowD + s.r0) * rowPlane;
      withViews(vb, [a], aFirst, (n * aD + s.a1) * aPlane, ([av], aBase) => {
        withViews(vb, [r], rFirst, (n * rowD + s.r1) * rowPlane, ([rv], rBase) => {
          run(s, av!, rv!, { a: aFirst - aBase, r: rFirst - rBase });
        });
      });
    }
  }
}

/** The conv geometry of `count` samples of `info`'s batch. */
function ofBatch(info: tf.backend_util.Conv3DInfo, count: number): tf.backend_util.Conv3DInfo {
  const withBatch = (s: readonly number[]) => [count, ...s.slice(1)] as [number, number, number, number, number];
  return { ...info, batchSize: count, inShape: withBatch(info.inShape), outShape: withBatch(info.outShape) };
}

/**
 * Run `kernel` over pieces of the batch whose two batch-sized tensors (`a`, and the output or
 * second operand `b`) each fit one binding, with views of those pieces.
 */
function overBatch(
  backend: WebGPUProgramRunner,
  name: string,
  info: tf.backend_util.Conv3DInfo,
  a: tf.TensorInfo,
  aSample: number,
  b: tf.TensorInfo,
  bSample: number,
  run: (piece: tf.backend_util.Conv3DInfo, aView: tf.TensorInfo, bView: tf.TensorInfo, shifts: { a: number; b: number }) => void,
): void {
  const per = samplesPerPiece(backend, info.batchSize, aSample, bSample);
  const vb = backend as unknown as ViewBackend;
  for (let n0 = 0; n0 < info.batchSize; n0 += per) {
    const count = Math.min(per, info.batchSize - n0);
    withViews(vb, [a], n0 * aSample, (n0 + count) * aSample, ([av], aBase) => {
      withViews(vb, [b], n0 * bSample, (n0 + count) * bSample, ([bv], bBase) => {
        run(ofBatch(info, count), av!, bv!, { a: n0 * aSample - aBase, b: n0 * bSample - bBase });
      });
    });
  }
}

const inElements = (i: tf.backend_util.Conv3DInfo) => i.inDepth * i.inHeight * i.inWidth * i.inChannels;
const outElements = (i: tf.backend_util.Conv3DInfo) => i.outDepth * i.outHeight * i.outWidth * i.outChannels;

type ShiftedConv = (a: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, out?: tf.TensorInfo, shifts?: Shifts) => tf.TensorInfo;

/**
 * Runs `run` (forward or input gradient: one batched input `a`, the whole filter, one batched
 * output) over pieces of the batch whose bindings fit, each piece writing its slice of one output.
 */
function batchSplit(
  kernel: string, run: ShiftedConv, a: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo,
  backend: WebGPUProgramRunner, aElements: number, outElements: number, outShape: readonly number[],
): tf.TensorInfo {
  const per = samplesPerPiece(backend, info.batchSize, aElements, outElements);
  if (per === info.batchSize) return run(a, w, info, backend);
  const out = backend.makeTensorInfo([...outShape], 'float32');
  if (per === 0) {
    // One sample is larger than a binding: depth slabs of each sample, each writing its planes.
    overSlabs(backend, kernel, info, run === forward, a, out, (s, av, ov, sh) => {
      run(av, w, s.info, backend, ov, { a: sh.a, b: 0, o: sh.r });
    });
    return out;
  }
  overBatch(backend, kernel, info, a, aElements, out, outElements, (piece, av, ov, s) => {
    run(av, w, piece, backend, ov, { a: s.a, b: 0, o: s.b });
  });
  return out;
}

const forwardSplit = (x: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner) =>
  batchSplit('Conv3D', forward, x, w, info, backend, inElements(info), outElements(info), info.outShape);

const inputGradSplit = (dy: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner) =>
  batchSplit('Conv3DBackpropInputV2', inputGrad, dy, w, info, backend, outElements(info), inElements(info), info.inShape);

function filterGradSplit(x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner): tf.TensorInfo {
  const [is, os] = [inElements(info), outElements(info)];
  const per = samplesPerPiece(backend, info.batchSize, is, os);
  if (per === info.batchSize) return filterGrad(x, dy, info, backend);
  // One filter gradient per piece of the batch (or depth slab of a sample), then their sum.
  const total = runningSum(backend);
  if (per === 0) {
    overSlabs(backend, 'Conv3DBackpropFilterV2', info, true, x, dy, (s, xv, dyv, sh) => {
      total.add(filterGrad(xv, dyv, s.info, backend, { a: sh.a, b: sh.r, o: 0 }));
    });
  } else {
    overBatch(backend, 'Conv3DBackpropFilterV2', info, x, is, dy, os, (piece, xv, dyv, s) => {
      total.add(filterGrad(xv, dyv, piece, backend, { a: s.a, b: s.b, o: 0 }));
    });
  }
  return total.result()!;
}

function assertFloat(kernel: string, ...t: tf.TensorInfo[]): void {
  for (const x of t) if (x.dtype !== 'float32') throw new Error(`${kernel} on webgpu: expected float32 inputs, got ${x.dtype}`);
}

/** `Conv3D`: implicit-GEMM forward. */
export const conv3dConfig: tf.KernelConfig = {
  kernelName: 'Conv3D',
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dilations } = attrs as unknown as { strides: number[]; pad: Pad; dilations: number | number[] };
    assertFloat('Conv3D', x, filter);
    const info = tf.backend_util.computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filter.shape as [number, number, number, number, number],
      triple(strides),
      triple(dilations ?? 1),
      pad,
    );
    return forwardSplit(x, filter, info, backend as WebGPUProgramRunner);
  },
};

/** `Conv3DBackpropInputV2`: the gradient of Conv3D for its input, and `conv3dTranspose`. */
export const conv3dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, inputShape } = attrs as unknown as { strides: number[]; pad: Pad; inputShape: number[] };
    assertFloat('Conv3DBackpropInputV2', dy, filter);
    const info = tf.backend_util.computeConv3DInfo(
      inputShape as [number, number, number, number, number],
      filter.shape as [number, number, number, number, number],
      triple(strides),
      1,
      pad,
    );
    return inputGradSplit(dy, filter, info, backend as WebGPUProgramRunner);
  },
};

/** `Conv3DBackpropFilterV2`: the gradient of Conv3D for its filter (split-K). */
export const conv3dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropFilterV2',
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, filterShape } = attrs as unknown as { strides: number[]; pad: Pad; filterShape: number[] };
    assertFloat('Conv3DBackpropFilterV2', x, dy);
    const info = tf.backend_util.computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filterShape as [number, number, number, number, number],
      triple(strides),
      1,
      pad,
    );
    return filterGradSplit(x, dy, info, backend as WebGPUProgramRunner);
  },
};

/** The three conv kernels. */
export const conv3dKernelConfigs: tf.KernelConfig[] = [conv3dConfig, conv3dBackpropInputConfig, conv3dBackpropFilterConfig];
