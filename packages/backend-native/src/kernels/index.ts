import type * as tf from '@tensorflow/tfjs-core';

/** Every non-convolution kernel the native backend overrides. */
export const nativeKernelConfigs: tf.KernelConfig[] = [];
