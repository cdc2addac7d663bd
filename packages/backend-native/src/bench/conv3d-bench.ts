import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link benchConv3d}. */
export interface Conv3dBenchOptions {
  /** Cubic edge of the activation (64 for the target). */
  size: number;
  /** Input and output channels (32 -> 32 for the target). */
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
  /** Milliseconds of each part in the best repetition. */
  msForward: number;
  msBackwardInput: number;
  msBackwardFilter: number;
  /** Multiply-adds counted as 2 FLOPs: 3 x 2 N S^3 k^3 Cin Cout. */
  flops: number;
  backend: string;
}

/**
 * Time Conv3D forward and both gradient kernels on the active tfjs backend (whatever
 * `tf.setBackend` chose), with the same FLOP count PyTorch's reference uses
 * (scripts/torch_bench.py), so the two GFLOP/s figures compare directly.
 */
export function benchConv3d(options: Conv3dBenchOptions): Conv3dBenchResult {
  const { size: s, channels: c } = options;
  const n = options.batch ?? 1;
  const k = options.kernel ?? 3;
  const repeats = options.repeats ?? 3;
  const x = tf.fill([n, s, s, s, c], 0.5) as tf.Tensor5D;
  const w = tf.fill([k, k, k, c, c], 0.01) as tf.Tensor5D;
  const dy = tf.fill([n, s, s, s, c], 0.1) as tf.Tensor5D;
  const attrs = { strides: [1, 1, 1], pad: 'same' } as const;
  const time = (f: () => tf.Tensor): number => {
    const t0 = performance.now();
    const r = f();
    r.dataSync(); // forces completion on async backends; a no-op wait on cpu-style ones
    const ms = performance.now() - t0;
    r.dispose();
    return ms;
  };
  let best: [number, number, number] | undefined;
  for (let i = 0; i <= repeats; i++) {
    const parts: [number, number, number] = [
      time(() => tf.conv3d(x, w, 1, 'same')),
      time(() => tf.engine().runKernel(tf.Conv3DBackpropInputV2, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor),
      time(() => tf.engine().runKernel(tf.Conv3DBackpropFilterV2, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor),
    ];
    if (i === 0) continue; // warm-up: primitive creation, JIT, page faults
    if (!best || parts[0] + parts[1] + parts[2] < best[0] + best[1] + best[2]) best = parts;
  }
  tf.dispose([x, w, dy]);
  const flops = 3 * 2 * n * s ** 3 * k ** 3 * c * c;
  const total = best![0] + best![1] + best![2];
  return { gflops: flops / (total / 1000) / 1e9, msForward: best![0], msBackwardInput: best![1], msBackwardFilter: best![2], flops, backend: tf.getBackend() };
}
