import * as tf from '@tensorflow/tfjs-core';
import { checkWebGPUErrors } from '../backend/register-webgpu.js';

/** Options of {@link benchConv3dAsync}. */
export interface Conv3dBenchOptions {
  /** Cubic edge of the activation (64 and 128 for the GPU targets). */
  size: number;
  /** Input and output channels (32 -> 32 for the targets). */
  channels: number;
  /** Batch. Default 1. */
  batch?: number;
  /** Kernel edge. Default 3 ('same' padding, stride 1). */
  kernel?: number;
  /** Timed repetitions after one warm-up. Default 3. */
  repeats?: number;
}

/** Result: the best repetition. FLOPs as backend-native's bench counts them (2 per multiply-add). */
export interface Conv3dBenchResult {
  /** TFLOP/s of forward + gradient of the input + gradient of the filter. */
  tflops: number;
  msForward: number;
  msBackwardInput: number;
  msBackwardFilter: number;
  /** 3 x 2 N S^3 k^3 Cin Cout. */
  flops: number;
  backend: string;
}

/**
 * Wait until the active backend has finished every kernel issued so far. On webgpu: submit the
 * pending command buffer and wait for the queue (no read-back, so a timing is the kernels'
 * alone); elsewhere, read the tensor.
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

/**
 * Time Conv3D forward and both gradient kernels on the active tfjs backend, asynchronously
 * (webgpu has no synchronous reads in Node).
 */
export async function benchConv3dAsync(options: Conv3dBenchOptions): Promise<Conv3dBenchResult> {
  const { size: s, channels: c } = options;
  const n = options.batch ?? 1;
  const k = options.kernel ?? 3;
  const repeats = options.repeats ?? 3;
  const x = tf.fill([n, s, s, s, c], 0.5) as tf.Tensor5D;
  const w = tf.fill([k, k, k, c, c], 0.01) as tf.Tensor5D;
  const dy = tf.fill([n, s, s, s, c], 0.1) as tf.Tensor5D;
  const attrs = { strides: [1, 1, 1], pad: 'same' } as const;
  await finish(dy);
  const time = async (f: () => tf.Tensor): Promise<number> => {
    const t0 = performance.now();
    const r = f();
    await finish(r);
    const ms = performance.now() - t0;
    r.dispose();
    return ms;
  };
  let best: [number, number, number] | undefined;
  for (let i = 0; i <= repeats; i++) {
    const parts: [number, number, number] = [
      await time(() => tf.conv3d(x, w, 1, 'same')),
      await time(() => tf.engine().runKernel(tf.Conv3DBackpropInputV2, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor),
      await time(() => tf.engine().runKernel(tf.Conv3DBackpropFilterV2, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor),
    ];
    if (i === 0) continue; // warm-up: shader compilation
    if (!best || parts[0] + parts[1] + parts[2] < best[0] + best[1] + best[2]) best = parts;
  }
  tf.dispose([x, w, dy]);
  const flops = 3 * 2 * n * s ** 3 * k ** 3 * c * c;
  const [f, bi, bf] = best!;
  return { tflops: flops / ((f + bi + bf) / 1000) / 1e12, msForward: f, msBackwardInput: bi, msBackwardFilter: bf, flops, backend: tf.getBackend() };
}
