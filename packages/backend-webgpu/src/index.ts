/**
 * @voxseg/backend-webgpu: the `webgpu` TensorFlow.js backend for voxseg, on Dawn (npm
 * `webgpu`) in Node and `navigator.gpu` in browsers. It builds on tfjs-backend-webgpu, turns
 * every WebGPU error into an exception, routes around its rank-5 broadcast bug, and registers
 * WGSL kernels for 3-D U-Net training. See the README.
 * @packageDocumentation
 */
export {
  WEBGPU_BACKEND,
  WEBGPU_BACKEND_PRIORITY,
  ENABLE_HINT,
  registerWebGPUBackend,
  checkWebGPUErrors,
  formatWebGPUStatus,
  type WebGPUBackendOptions,
  type WebGPUBackendStatus,
} from './backend/register-webgpu.js';
export { type AdapterReport, describeAdapter, isSoftwareAdapter, formatAdapter } from './backend/adapter-report.js';
export { WebGPUError, type ErrorGuard, type ErrorGuardOptions } from './backend/error-guard.js';
export { type GpuProviderOptions } from './backend/gpu-provider.js';
export { BINARY_KERNELS, collapsedShape } from './kernels/binary-broadcast.js';
export { voxsegKernelConfigs } from './kernels/register-kernels.js';
export { fusedNormKernelConfigs } from './kernels/fused-norm.js';
export { setMaxBindingBytes, maxBindingBytes } from './kernels/binding-split.js';
export { setConvKernelChoice, usesDirectConv, type ConvKernelChoice } from './kernels/conv3d-kernels.js';
export { finish } from './bench/finish.js';
