import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setTestBackend } from '../backend/test-backend.js';
import { benchConv3d, conv3dBenchFlops, formatConv3dBench } from './conv3d-bench.js';

describe('benchConv3d', () => {
  beforeAll(async () => {
    await setTestBackend();
  });

  it('counts 3 x 2 N S^3 k^3 Cin Cout FLOPs (forward and both gradients, a multiply-add = 2)', () => {
    expect(conv3dBenchFlops({ size: 6, channels: 3 })).toBe(3 * 2 * 6 ** 3 * 27 * 9);
    // The CPU target's case: 64^3, 32 -> 32, k 3, batch 1 = 11.6 GFLOP per fwd+bwd.
    expect(conv3dBenchFlops({ size: 64, channels: 32, batch: 2, kernel: 3 })).toBe(2 * 3 * 2 * 64 ** 3 * 27 * 32 * 32);
  });

  it('times the three kernels on the active backend, waits through `finish`, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const waited: number[][] = [];
    const r = await benchConv3d({ size: 6, channels: 3, repeats: 2 }, { finish: async (t) => void waited.push(t.shape) });
    expect(tf.memory().numTensors).toBe(before);
    // dy first, then (1 warm-up + 2 repetitions) x 3 kernels.
    expect(waited).toHaveLength(1 + 3 * 3);
    expect(waited.slice(1, 4)).toEqual([[1, 6, 6, 6, 3], [1, 6, 6, 6, 3], [3, 3, 3, 3, 3]]);
    expect(r.backend).toBe(tf.getBackend());
    expect(r.flops).toBe(conv3dBenchFlops({ size: 6, channels: 3 }));
    expect(r.gflops).toBeGreaterThan(0);
    expect(r.tflops).toBeCloseTo(r.gflops / 1000, 12);
    expect(r.gflops).toBeCloseTo(r.flops / ((r.msForward + r.msBackwardInput + r.msBackwardFilter) / 1000) / 1e9, 6);
    expect(formatConv3dBench(r, { size: 6, channels: 3, repeats: 2 })).toMatch(
      new RegExp(`^conv3d 6\\^3 3->3 batch 1 on ${r.backend}: \\d+\\.\\d\\d GFLOP/s \\(forward \\d+\\.\\d ms, grad input \\d+\\.\\d ms, grad filter \\d+\\.\\d ms; best of 2\\)$`),
    );
  });
});
