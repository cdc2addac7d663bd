/**
 * @voxseg/backend-native: a TensorFlow.js backend named `native` whose hot kernels
 * (Conv3D and its gradients, matmul, normalisation, element-wise ops, reductions) run in
 * oneDNN and OpenMP code through an N-API addon, with every other kernel inherited from
 * the pure-JS cpu backend. See the README for how to enable it.
 * @packageDocumentation
 */
export {
  NATIVE_BACKEND,
  NATIVE_BACKEND_PRIORITY,
  NativeBackend,
  registerNativeBackend,
  nativeBackendStatus,
  type NativeBackendStatus,
} from './backend/native-backend.js';
export { ENABLE_HINT } from './addon/load-addon.js';
export {
  nativeNorm,
  nativeGroupNorm,
  nativeInstanceNorm,
  nativeBatchNorm,
  type NativeNormOptions,
  type NativeNormResult,
} from './ops/norm.js';
export { NORM_FORWARD, NORM_BACKWARD, type NormKernelAttrs } from './ops/norm-kernels.js';
export { nativeConv3dBias, CONV3D_BIAS, CONV3D_BACKPROP_FILTER_BIAS } from './kernels/conv3d.js';
export { CONV3D_INFERENCE, type Conv3DInferenceAttrs } from './kernels/conv3d-inference.js';
export {
  nativeCapabilities,
  setInferencePrecision,
  inferencePrecision,
  parseInferencePrecision,
  bf16Refusal,
  INFERENCE_PRECISIONS,
  type InferencePrecision,
  type NativeCapabilities,
} from './precision/inference-precision.js';
export { setBf16EmulationForAgreementCheck, bf16EmulationForAgreementCheck, roundToBf16 } from './precision/bf16-emulation.js';
