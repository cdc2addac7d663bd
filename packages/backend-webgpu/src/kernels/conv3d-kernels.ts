import * as tf from '@tensorflow/tfjs-core';
import { maxBindingBytes, maxBindingElements, type ViewBackend, withViews } from './binding-split.js';
import { ConvGemmProgram, convUniforms, gemmTiles } from './conv3d-gemm.js';

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
  const t = gemmTiles(n);
  const tiles = Math.ceil(m / t.TM) * Math.ceil(n / t.TN);
  // At least 8 K-tiles per slice, so the reduction of partial sums stays small.
  const maxSplits = Math.max(1, Math.floor(k / (t.TK * 8)));
  return Math.max(1, Math.min(maxSplits, Math.ceil(512 / tiles), 1024));
}

type Shifts = { a: number; b: number; o: number };
const NO_SHIFT: Shifts = { a: 0, b: 0, o: 0 };

function forward(x: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, out?: tf.TensorInfo, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const n = info.outChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const program = new ConvGemmProgram('forward', [...info.outShape], m, n, 1);
  return backend.runWebGPUProgram(program, [x, w], 'float32', convUniforms(info, m, n, k, k, shifts), out);
}

function inputGrad(dy: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, out?: tf.TensorInfo, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.batchSize * info.inDepth * info.inHeight * info.inWidth;
  const n = info.inChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.outChannels;
  // The transposed conv's padding: the forward conv's, seen from the input side.
  const program = new ConvGemmProgram('inputGrad', [...info.inShape], m, n, 1);
  return backend.runWebGPUProgram(program, [dy, w], 'float32', convUniforms(info, m, n, k, k, shifts), out);
}

function filterGrad(x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner, shifts = NO_SHIFT): tf.TensorInfo {
  const m = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const splits = filterGradSplits(m, n, k);
  const tk = gemmTiles(n).TK;
  const kChunk = Math.ceil(k / splits / tk) * tk;
  const used = Math.ceil(k / kChunk);
  if (used === 1) {
    const program = new ConvGemmProgram('filterGrad', [...info.filterShape], m, n, 1);
    return backend.runWebGPUProgram(program, [x, dy], 'float32', convUniforms(info, m, n, k, k, shifts));
  }
  const program = new ConvGemmProgram('filterGrad', [used, m, n], m, n, used);
  const partial = backend.runWebGPUProgram(program, [x, dy], 'float32', convUniforms(info, m, n, k, kChunk, shifts));
  const sum = tf.getKernel('Sum', 'webgpu')!.kernelFunc({ inputs: { x: partial }, backend, attrs: { axis: [0], keepDims: false } }) as tf.TensorInfo;
  backend.disposeData(partial.dataId);
  const out = tf.getKernel('Reshape', 'webgpu')!.kernelFunc({ inputs: { x: sum }, backend, attrs: { shape: [...info.filterShape] } }) as tf.TensorInfo;
  backend.disposeData(sum.dataId);
  return out;
}

/**
 * Samples per piece when the batch's activations exceed one storage binding (else the whole
 * batch). `a` and `b` are the elements per sample of the two batch-sized tensors.
 */
function samplesPerPiece(backend: WebGPUProgramRunner, kernel: string, batch: number, a: number, b: number): number {
  const maxEl = maxBindingElements(backend);
  if (batch * Math.max(a, b) <= maxEl) return batch;
  const per = Math.floor(maxEl / Math.max(a, b));
  if (per < 1) {
    throw new Error(
      `${kernel} on webgpu: one sample's activation (${Math.max(a, b) * 4} bytes) exceeds the device's storage-binding limit ` +
        `(${maxBindingBytes(backend)} bytes); use a smaller patch or a device with a larger maxStorageBufferBindingSize`,
    );
  }
  return per;
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
  const per = samplesPerPiece(backend, name, info.batchSize, aSample, bSample);
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
  if (samplesPerPiece(backend, kernel, info.batchSize, aElements, outElements) === info.batchSize) return run(a, w, info, backend);
  const out = backend.makeTensorInfo([...outShape], 'float32');
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
  if (samplesPerPiece(backend, 'Conv3DBackpropFilterV2', info.batchSize, is, os) === info.batchSize) return filterGrad(x, dy, info, backend);
  // One filter gradient per piece of the batch, then their sum.
  let total: tf.TensorInfo | undefined;
  const add = tf.getKernel('Add', 'webgpu')!.kernelFunc;
  overBatch(backend, 'Conv3DBackpropFilterV2', info, x, is, dy, os, (piece, xv, dyv, s) => {
    const part = filterGrad(xv, dyv, piece, backend, { a: s.a, b: s.b, o: 0 });
    if (!total) {
      total = part;
      return;
    }
    const next = add({ inputs: { a: total, b: part }, backend, attrs: {} }) as tf.TensorInfo;
    backend.disposeData(total.dataId);
    backend.disposeData(part.dataId);
    total = next;
  });
  return total!;
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
