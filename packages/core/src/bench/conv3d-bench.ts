import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link benchConv3d}. */
export interface Conv3dBenchOptions {
  /** Cubic edge of the activation (64 for the CPU target; 64 and 128 for the GPU targets). */
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

/** Result of {@link benchConv3d}: the best repetition (the least disturbed by other load). */
export interface Conv3dBenchResult {
  /** GFLOP/s of forward + gradient of the input + gradient of the filter. */
  gflops: number;
  /** The same in TFLOP/s (the unit of the GPU targets). */
  tflops: number;
  /** Milliseconds of each part in the best repetition. */
  msForward: number;
  msBackwardInput: number;
  msBackwardFilter: number;
  /** {@link conv3dBenchFlops} of the options. */
  flops: number;
  /** The tfjs backend that ran it. */
  backend: string;
}

/**
 * FLOPs of one Conv3D forward plus the gradients of its input and of its filter, 'same'
 * padding, stride 1: 3 x 2 N S^3 k^3 Cin Cout (a multiply-add counted as 2 FLOPs, as PyTorch's
 * reference in scripts/torch_bench.py counts them, so the figures compare directly).
 */
export function conv3dBenchFlops(options: Conv3dBenchOptions): number {
  const n = options.batch ?? 1;
  const k = options.kernel ?? 3;
  return 3 * 2 * n * options.size ** 3 * k ** 3 * options.channels * options.channels;
}

/** Options of how {@link benchConv3d} waits for a kernel. */
export interface Conv3dBenchWait {
  /**
   * Wait until the active backend has finished computing `t` (and everything issued before).
   * Default: read it (`t.data()`), which on CPU backends costs a copy at most; a GPU backend
   * passes a wait without read-back (e.g. `@voxseg/backend-webgpu`'s `finish`), so a timing is
   * the kernels' alone.
   */
  finish?: (t: tf.Tensor) => Promise<void>;
}

/**
 * Time Conv3D forward and both gradient kernels (`Conv3DBackpropInputV2`,
 * `Conv3DBackpropFilterV2`) on the active tfjs backend (whatever `tf.setBackend` chose): one
 * warm-up (primitive creation, JIT, shader compilation, page faults), then `repeats`
 * repetitions; the best one is reported. Inputs are constants: kernel speed does not depend
 * on values. Every tensor it makes is disposed.
 */
export async function benchConv3d(options: Conv3dBenchOptions, wait: Conv3dBenchWait = {}): Promise<Conv3dBenchResult> {
  const { size: s, channels: c } = options;
  const n = options.batch ?? 1;
  const k = options.kernel ?? 3;
  const repeats = options.repeats ?? 3;
  const finish = wait.finish ?? (async (t: tf.Tensor) => void (await t.data()));
  const x = tf.fill([n, s, s, s, c], 0.5) as tf.Tensor5D;
  const w = tf.fill([k, k, k, c, c], 0.01) as tf.Tensor5D;
  const dy = tf.fill([n, s, s, s, c], 0.1) as tf.Tensor5D;
  const attrs = { strides: [1, 1, 1], pad: 'same' } as const;
  const time = async (f: () => tf.Tensor): Promise<number> => {
    const t0 = performance.now();
    const r = f();
    await finish(r);
    const ms = performance.now() - t0;
    r.dispose();
    return ms;
  };
  let best: [number, number, number] | undefined;
  try {
    await finish(dy);
    for (let i = 0; i <= repeats; i++) {
      const parts: [number, number, number] = [
        await time(() => tf.conv3d(x, w, 1, 'same')),
        await time(() => tf.engine().runKernel(tf.Conv3DBackpropInputV2, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor),
        await time(() => tf.engine().runKernel(tf.Conv3DBackpropFilterV2, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor),
      ];
      if (i === 0) continue; // warm-up
      if (!best || parts[0] + parts[1] + parts[2] < best[0] + best[1] + best[2]) best = parts;
    }
  } finally {
    tf.dispose([x, w, dy]);
  }
  const flops = conv3dBenchFlops(options);
  const [f, bi, bf] = best!;
  const perSecond = flops / ((f + bi + bf) / 1000);
  return { gflops: perSecond / 1e9, tflops: perSecond / 1e12, msForward: f, msBackwardInput: bi, msBackwardFilter: bf, flops, backend: tf.getBackend() };
}

/**
 * The line `voxseg bench conv3d` and the GPU bench print for a result, e.g.
 * `conv3d 64^3 32->32 batch 1 on native: 210.50 GFLOP/s (forward 12.3 ms, grad input 13.0 ms, grad filter 14.1 ms; best of 3)`.
 * @param unit `GFLOP/s` (CPU figures) or `TFLOP/s` (GPU figures)
 */
export function formatConv3dBench(r: Conv3dBenchResult, options: Conv3dBenchOptions, unit: 'GFLOP/s' | 'TFLOP/s' = 'GFLOP/s'): string {
  const rate = unit === 'GFLOP/s' ? r.gflops.toFixed(2) : r.tflops.toFixed(3);
  const c = options.channels;
  return (
    `conv3d ${options.size}^3 ${c}->${c} batch ${options.batch ?? 1} on ${r.backend}: ${rate} ${unit} ` +
    `(forward ${r.msForward.toFixed(1)} ms, grad input ${r.msBackwardInput.toFixed(1)} ms, grad filter ${r.msBackwardFilter.toFixed(1)} ms; best of ${options.repeats ?? 3})`
  );
}
