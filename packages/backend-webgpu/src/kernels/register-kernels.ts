import * as tf from '@tensorflow/tfjs-core';
import { addNConfig } from './add-n.js';
import { routeAroundRank5Broadcast } from './binary-broadcast.js';
import { transposeIntConfig } from './transpose-int.js';
import { fixIntReductions } from './int-reductions.js';
import { fixRank5ReverseAndPad } from './axis-by-axis.js';
import { ROW_SPLIT_KERNELS, splitAboveBindingLimit } from './row-split.js';

const CHUNKED = Symbol.for('voxseg.webgpu.chunkedAddN');
const INT_TRANSPOSE = Symbol.for('voxseg.webgpu.intTranspose');
import { conv3dKernelConfigs } from './conv3d-kernels.js';
import { fusedNormKernelConfigs } from './fused-norm.js';
import { softmaxKernelConfigs } from './softmax.js';
import { directBatchMatMul } from './batch-matmul.js';

/** voxseg's kernels for the `webgpu` backend (WGSL), registered over tfjs-backend-webgpu's. */
export function voxsegKernelConfigs(): tf.KernelConfig[] {
  return [...conv3dKernelConfigs, ...fusedNormKernelConfigs, ...softmaxKernelConfigs];
}

/**
 * The kernels that handle tensors above the storage-binding limit on `webgpu`: voxseg's WGSL
 * kernels (pieces, depth slabs), tfjs's kernels wrapped by `row-split.ts`, and `Reshape` and
 * `Identity` (metadata only, they bind nothing). Any other kernel binds its tensors whole; above the limit
 * it fails with a one-line error naming its program (`installBindingRules`).
 */
export function splitCapableKernels(): ReadonlySet<string> {
  return new Set([...voxsegKernelConfigs().map((k) => k.kernelName), ...ROW_SPLIT_KERNELS, 'Reshape', 'Identity']);
}

/**
 * Register the correctness fixes (always) and, with `voxseg`, the WGSL kernels. Idempotent:
 * a kernel already registered by this package is replaced by the same one.
 */
export function registerVoxsegKernels(which: 'voxseg' | 'tfjs'): void {
  routeAroundRank5Broadcast('webgpu');
  fixIntReductions('webgpu');
  fixRank5ReverseAndPad('webgpu');
  const addN = tf.getKernel('AddN', 'webgpu');
  if (addN && !(addN.kernelFunc as unknown as Record<symbol, boolean>)[CHUNKED]) {
    const chunked = addNConfig(addN);
    (chunked.kernelFunc as unknown as Record<symbol, boolean>)[CHUNKED] = true;
    tf.unregisterKernel('AddN', 'webgpu');
    tf.registerKernel(chunked);
  }
  const transpose = tf.getKernel('Transpose', 'webgpu');
  if (transpose && !(transpose.kernelFunc as unknown as Record<symbol, boolean>)[INT_TRANSPOSE]) {
    const fixed = transposeIntConfig(transpose);
    (fixed.kernelFunc as unknown as Record<symbol, boolean>)[INT_TRANSPOSE] = true;
    tf.unregisterKernel('Transpose', 'webgpu');
    tf.registerKernel(fixed);
  }
  if (which === 'voxseg') {
    for (const k of voxsegKernelConfigs()) {
      if (tf.getKernel(k.kernelName, 'webgpu')) tf.unregisterKernel(k.kernelName, 'webgpu');
      tf.registerKernel(k);
    }
    directBatchMatMul('webgpu');
  }
  // Last: it wraps whatever is registered (the fixes above included).
  splitAboveBindingLimit('webgpu');
}
