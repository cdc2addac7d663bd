import * as tf from '@tensorflow/tfjs-core';
import { ConvGemmProgram, convUniforms, gemmTiles } from './conv3d-gemm.js';

/** The part of tfjs-backend-webgpu's backend the kernels use. */
export interface WebGPUProgramRunner extends tf.KernelBackend {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: { type: string; data: number[] }[]): tf.TensorInfo;
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

function forward(x: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner): tf.TensorInfo {
  const m = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const n = info.outChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const program = new ConvGemmProgram('forward', [...info.outShape], m, n, 1);
  return backend.runWebGPUProgram(program, [x, w], 'float32', convUniforms(info, m, n, k, k));
}

function inputGrad(dy: tf.TensorInfo, w: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner): tf.TensorInfo {
  const m = info.batchSize * info.inDepth * info.inHeight * info.inWidth;
  const n = info.inChannels;
  const k = info.filterDepth * info.filterHeight * info.filterWidth * info.outChannels;
  // The transposed conv's padding: the forward conv's, seen from the input side.
  const program = new ConvGemmProgram('inputGrad', [...info.inShape], m, n, 1);
  return backend.runWebGPUProgram(program, [dy, w], 'float32', convUniforms(info, m, n, k, k));
}

function filterGrad(x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv3DInfo, backend: WebGPUProgramRunner): tf.TensorInfo {
  const m = info.filterDepth * info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const splits = filterGradSplits(m, n, k);
  const tk = gemmTiles(n).TK;
  const kChunk = Math.ceil(k / splits / tk) * tk;
  const used = Math.ceil(k / kChunk);
  if (used === 1) {
    const program = new ConvGemmProgram('filterGrad', [...info.filterShape], m, n, 1);
    return backend.runWebGPUProgram(program, [x, dy], 'float32', convUniforms(info, m, n, k, k));
  }
  const program = new ConvGemmProgram('filterGrad', [used, m, n], m, n, used);
  const partial = backend.runWebGPUProgram(program, [x, dy], 'float32', convUniforms(info, m, n, k, kChunk));
  const sum = tf.getKernel('Sum', 'webgpu')!.kernelFunc({ inputs: { x: partial }, backend, attrs: { axis: [0], keepDims: false } }) as tf.TensorInfo;
  backend.disposeData(partial.dataId);
  const out = tf.getKernel('Reshape', 'webgpu')!.kernelFunc({ inputs: { x: sum }, backend, attrs: { shape: [...info.filterShape] } }) as tf.TensorInfo;
  backend.disposeData(sum.dataId);
  return out;
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
    return forward(x, filter, info, backend as WebGPUProgramRunner);
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
    return inputGrad(dy, filter, info, backend as WebGPUProgramRunner);
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
    return filterGrad(x, dy, info, backend as WebGPUProgramRunner);
  },
};

/** The three conv kernels. */
export const conv3dKernelConfigs: tf.KernelConfig[] = [conv3dConfig, conv3dBackpropInputConfig, conv3dBackpropFilterConfig];
