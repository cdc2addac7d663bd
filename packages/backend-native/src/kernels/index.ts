import type * as tf from '@tensorflow/tfjs-core';
import { binaryConfigs, leakyReluConfig, leakyReluGradKernelConfig, reduceConfigs, selectConfig, stepConfig, unaryConfigs } from './elementwise.js';
import { concatConfig, sliceConfig, splitVConfig } from './slice.js';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul.js';
import { normKernelConfigs } from '../ops/norm-kernels.js';

/** Every non-convolution kernel the native backend overrides. */
export const nativeKernelConfigs: tf.KernelConfig[] = [
  ...binaryConfigs,
  selectConfig,
  leakyReluConfig,
  leakyReluGradKernelConfig,
  stepConfig,
  ...unaryConfigs,
  ...reduceConfigs,
  batchMatMulConfig,
  fusedMatMulConfig,
  sliceConfig,
  splitVConfig,
  concatConfig,
  ...normKernelConfigs,
];
