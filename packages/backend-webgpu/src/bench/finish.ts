import * as tf from '@tensorflow/tfjs-core';
import { checkWebGPUErrors } from '../backend/register-webgpu.js';

/**
 * Wait until the active backend has finished every kernel issued so far. On webgpu: submit the
 * pending command buffer and wait for the queue (no read-back, so a timing is the kernels'
 * alone); elsewhere, read the tensor. Benchmarks time webgpu kernels with it, e.g. core's
 * `benchConv3d(options, { finish })` (`voxseg bench conv3d --backend webgpu`, scripts/gpu-bench.mjs).
 */
export async function finish(t: tf.Tensor): Promise<void> {
  const b = tf.backend() as unknown as {
    submitQueue?: () => void;
    endComputePassEncoder?: () => void;
    commandEncoder?: GPUCommandEncoder | null;
    device?: GPUDevice;
  };
  if (b.submitQueue && b.device) {
    // As tfjs-backend-webgpu does before it reads: close the open pass, submit what is encoded.
    b.endComputePassEncoder?.();
    if (b.commandEncoder) b.submitQueue();
    await b.device.queue.onSubmittedWorkDone();
    await checkWebGPUErrors();
  } else {
    await t.data();
  }
}
