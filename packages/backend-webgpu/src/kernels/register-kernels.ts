import * as tf from '@tensorflow/tfjs-core';
import { addNConfig } from './add-n.js';
import { routeAroundRank5Broadcast } from './binary-broadcast.js';

const CHUNKED = Symbol.for('voxseg.webgpu.chunkedAddN');
import { conv3dKernelConfigs } from './conv3d-kernels.js';

/** voxseg's kernels for the `webgpu` backend (WGSL), registered over tfjs-backend-webgpu's. */
export function voxsegKernelConfigs(): tf.KernelConfig[] {
  return [...conv3dKernelConfigs];
}

/**
 * Register the correctness fixes (always) and, with `voxseg`, the WGSL kernels. Idempotent:
 * a kernel already registered by this package is replaced by the same one.
 */
export function registerVoxsegKernels(which: 'voxseg' | 'tfjs'): void {
  routeAroundRank5Broadcast('webgpu');
  const addN = tf.getKernel('AddN', 'webgpu');
  if (addN && !(addN.kernelFunc as unknown as Record<symbol, boolean>)[CHUNKED]) {
    const chunked = addNConfig(addN);
    (chunked.kernelFunc as unknown as Record<symbol, boolean>)[CHUNKED] = true;
    tf.unregisterKernel('AddN', 'webgpu');
    tf.registerKernel(chunked);
  }
  if (which !== 'voxseg') return;
  for (const k of voxsegKernelConfigs()) {
    if (tf.getKernel(k.kernelName, 'webgpu')) tf.unregisterKernel(k.kernelName, 'webgpu');
    tf.registerKernel(k);
  }
}
