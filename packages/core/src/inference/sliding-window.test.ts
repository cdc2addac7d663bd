import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import { padToShape, unpad } from '../volume/pad.js';
import type { Shape3, Shape4 } from '../volume/types.js';
import { gaussianImportanceMap } from './gaussian.js';
import { type SlidingWindowProgress, type WindowPredictor, slidingWindowInference } from './sliding-window.js';
import { slidingWindowSteps } from './steps.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function randomArray(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** A 'same'-padded conv3d network with fixed random weights [k,k,k,C,K]. */
function convPredictor(kernel: tf.Tensor5D): WindowPredictor {
  return (x) => tf.tidy(() => tf.conv3d(x, kernel, 1, 'same'));
}

/** sigmoid(conv(x)) on the whole volume at once, as plain data. */
async function directForward(volume: Float32Array, shape: Shape4, kernel: tf.Tensor5D): Promise<Float32Array> {
  const y = tf.tidy(() => tf.sigmoid(tf.conv3d(tf.tensor5d(volume, [1, ...shape]), kernel, 1, 'same')));
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('slidingWindowInference', () => {
  it('equals a direct forward + sigmoid when the patch covers the volume', async () => {
    const rng = new Rng(1);
    const shape: Shape4 = [6, 7, 5, 2];
    const volume = randomArray(rng, 6 * 7 * 5 * 2);
    const kernel = tf.tensor5d(randomArray(rng, 27 * 2 * 3), [3, 3, 3, 2, 3]);
    const result = await slidingWindowInference(volume, shape, convPredictor(kernel), { patchSize: [6, 7, 5] });
    expect(result.shape).toEqual([6, 7, 5, 3]);
    expect(maxAbsDiff(result.data, await directForward(volume, shape, kernel))).toBeLessThan(1e-6);
    kernel.dispose();
  });

  it('equals the direct forward for a pointwise network over many overlapping windows', async () => {
    // A 1x1x1 conv gives every window the same value at a voxel, so any Gaussian-weighted
    // average of them must return it: this checks window placement and normalisation.
    const rng = new Rng(2);
    const shape: Shape4 = [13, 9, 11, 2];
    const volume = randomArray(rng, 13 * 9 * 11 * 2);
    const kernel = tf.tensor5d(randomArray(rng, 2 * 3), [1, 1, 1, 2, 3]);
    const result = await slidingWindowInference(volume, shape, convPredictor(kernel), {
      patchSize: [6, 4, 5],
      windowBatchSize: 4,
    });
    expect(maxAbsDiff(result.data, await directForward(volume, shape, kernel))).toBeLessThan(2e-6);
    kernel.dispose();
  });

  it.each([true, false])('averages sigmoid probabilities of the windows (Gaussian weights: %s)', async (gaussian) => {
    // Each window predicts one logit everywhere: the mean of its input. The expected value at
    // a voxel is then computed by brute force from the golden-tested steps and Gaussian.
    const rng = new Rng(3);
    const shape: Shape4 = [9, 10, 7, 1];
    const [D, H, W] = shape;
    const volume = randomArray(rng, D * H * W);
    const patch: Shape3 = [5, 6, 4];
    const predictor: WindowPredictor = (x) =>
      tf.tidy(() => tf.add(tf.zeros([x.shape[0], ...patch, 1]), tf.mean(x, [1, 2, 3, 4], true)));
    const progress: SlidingWindowProgress[] = [];
    const result = await slidingWindowInference(volume, shape, predictor, {
      patchSize: patch,
      windowBatchSize: 3,
      gaussian,
      onProgress: (p) => progress.push(p),
    });

    const steps = slidingWindowSteps(patch, [D, H, W], 0.5);
    const g = gaussian ? gaussianImportanceMap(patch) : new Float32Array(patch[0] * patch[1] * patch[2]).fill(1);
    const num = new Float64Array(D * H * W);
    const den = new Float64Array(D * H * W);
    let windows = 0;
    for (const z0 of steps[0]) for (const y0 of steps[1]) for (const x0 of steps[2]) {
      windows++;
      let mean = 0;
      for (let z = 0; z < patch[0]; z++) for (let y = 0; y < patch[1]; y++) for (let x = 0; x < patch[2]; x++)
        mean += volume[((z0 + z) * H + y0 + y) * W + x0 + x]!;
      const p = 1 / (1 + Math.exp(-mean / (patch[0] * patch[1] * patch[2])));
      for (let z = 0; z < patch[0]; z++) for (let y = 0; y < patch[1]; y++) for (let x = 0; x < patch[2]; x++) {
        const v = ((z0 + z) * H + y0 + y) * W + x0 + x;
        const w = g[(z * patch[1] + y) * patch[2] + x]!;
        num[v] = num[v]! + w * p;
        den[v] = den[v]! + w;
      }
    }
    const expected = Array.from(num, (v, i) => v / den[i]!);
    expect(maxAbsDiff(result.data, expected)).toBeLessThan(1e-5);
    expect(windows).toBeGreaterThan(8);
    expect(progress.map((p) => p.done)).toEqual(
      Array.from({ length: Math.ceil(windows / 3) }, (_, i) => Math.min(windows, 3 * (i + 1))),
    );
    expect(progress.every((p) => p.total === windows)).toBe(true);
  });

  it('gives the same probabilities with the sigmoid on the backend or in the accumulation loop (overlaps, TTA, a partial batch)', async () => {
    const rng = new Rng(9);
    const shape: Shape4 = [11, 9, 10, 2];
    const volume = randomArray(rng, 11 * 9 * 10 * 2);
    const kernel = tf.tensor5d(randomArray(rng, 27 * 2 * 3), [3, 3, 3, 2, 3]);
    const base = { patchSize: [6, 5, 7] as Shape3, mirror: true, windowBatchSize: 3 };
    const before = tf.memory().numTensors;
    const inLoop = await slidingWindowInference(volume, shape, convPredictor(kernel), { ...base, sigmoidOnBackend: false });
    const onBackend = await slidingWindowInference(volume, shape, convPredictor(kernel), { ...base, sigmoidOnBackend: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(onBackend.data, inLoop.data)).toBeLessThan(1e-6);
    kernel.dispose();
  });

  it('mirroring TTA changes nothing for a flip-equivariant network', async () => {
    // A kernel symmetric along every axis with zero 'same' padding commutes with all flips.
    const rng = new Rng(4);
    const C = 2, K = 2;
    const k = new Float32Array(27 * C * K);
    for (let ci = 0; ci < C; ci++) for (let ko = 0; ko < K; ko++) {
      const a = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
      for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
        const ring = Math.abs(z - 1) + Math.abs(y - 1) + Math.abs(x - 1); // symmetric under flips
        k[(((z * 3 + y) * 3 + x) * C + ci) * K + ko] = a[ring]!;
      }
    }
    const kernel = tf.tensor5d(k, [3, 3, 3, C, K]);
    const shape: Shape4 = [10, 9, 8, C];
    const volume = randomArray(rng, 10 * 9 * 8 * C);
    const opts = { patchSize: [6, 5, 4] as Shape3, windowBatchSize: 2 };
    const plain = await slidingWindowInference(volume, shape, convPredictor(kernel), opts);
    const tta = await slidingWindowInference(volume, shape, convPredictor(kernel), { ...opts, mirror: true });
    expect(maxAbsDiff(tta.data, plain.data)).toBeLessThan(2e-6);
    kernel.dispose();
  });

  it('mirroring TTA averages the 8 mirrored predictions, each mirrored back', async () => {
    const rng = new Rng(5);
    const shape: Shape4 = [4, 5, 6, 1];
    const volume = randomArray(rng, 4 * 5 * 6);
    const kernel = tf.tensor5d(randomArray(rng, 27 * 2), [3, 3, 3, 1, 2]);
    const tta = await slidingWindowInference(volume, shape, convPredictor(kernel), { patchSize: [4, 5, 6], mirror: true });
    const expected = tf.tidy(() => {
      const x = tf.tensor5d(volume, [1, ...shape]);
      const parts: tf.Tensor[] = [];
      for (const axes of [[], [1], [2], [3], [1, 2], [1, 3], [2, 3], [1, 2, 3]]) {
        const flip = (t: tf.Tensor) => (axes.length ? tf.reverse(t, axes) : t);
        parts.push(flip(tf.sigmoid(tf.conv3d(flip(x) as tf.Tensor5D, kernel, 1, 'same'))));
      }
      return tf.div(tf.addN(parts), 8);
    });
    const plain = await directForward(volume, shape, kernel);
    const e = (await expected.data()) as Float32Array;
    expected.dispose();
    expect(maxAbsDiff(tta.data, e)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tta.data, plain)).toBeGreaterThan(1e-3); // the kernel is not symmetric
    kernel.dispose();
  });

  it('pads a volume smaller than the patch (centred, padValue) and crops back', async () => {
    const rng = new Rng(6);
    const shape: Shape4 = [3, 5, 4, 1];
    const volume = randomArray(rng, 3 * 5 * 4);
    const kernel = tf.tensor5d(randomArray(rng, 27), [3, 3, 3, 1, 1]);
    const seen: number[][] = [];
    const predictor: WindowPredictor = (x) => {
      seen.push(x.shape);
      return convPredictor(kernel)(x);
    };
    for (const padValue of [0, 2.5]) {
      const result = await slidingWindowInference(volume, shape, predictor, { patchSize: [4, 6, 4], padValue });
      expect(result.shape).toEqual([3, 5, 4, 1]);
      const padded = padToShape(volume, [3, 5, 4], [4, 6, 4], 1, padValue);
      const full = await directForward(padded.data, [...padded.shape, 1], kernel);
      expect(maxAbsDiff(result.data, unpad(full, padded.shape, padded.box, 1))).toBeLessThan(1e-6);
    }
    expect(seen).toEqual([[1, 4, 6, 4, 1], [1, 4, 6, 4, 1]]);
    kernel.dispose();
  });

  it('leaks no tensor, with TTA, a partial last batch, deep-supervision outputs and on error', async () => {
    const rng = new Rng(7);
    const shape: Shape4 = [7, 6, 5, 1];
    const volume = randomArray(rng, 7 * 6 * 5);
    const kernel = tf.tensor5d(randomArray(rng, 2), [1, 1, 1, 1, 2]);
    const deepSupervision: WindowPredictor = (x) =>
      tf.tidy(() => {
        const y = tf.conv3d(x, kernel, 1, 'same');
        return [y, tf.avgPool3d(y, 2, 2, 'same')];
      });
    const before = tf.memory().numTensors;
    const result = await slidingWindowInference(volume, shape, deepSupervision, {
      patchSize: [4, 4, 4],
      windowBatchSize: 3,
      mirror: true,
    });
    expect(result.shape).toEqual([7, 6, 5, 2]);
    expect(tf.memory().numTensors).toBe(before);

    const wrong: WindowPredictor = (x) => tf.tidy(() => tf.avgPool3d(tf.conv3d(x, kernel, 1, 'same'), 2, 2, 'same'));
    await expect(slidingWindowInference(volume, shape, wrong, { patchSize: 4 })).rejects.toThrow(
      /predictor returned shape \[1,2,2,2,2\] for windows \[1,4,4,4,1\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    kernel.dispose();
  });

  it('rejects bad arguments with one clear line, and stops when aborted', async () => {
    const id: WindowPredictor = (x) => x;
    const v = new Float32Array(8);
    await expect(slidingWindowInference(v, [2, 2, 2, 2], id, { patchSize: 2 })).rejects.toThrow(/volume\): has 8 values, shape \[2,2,2,2\] needs 16/);
    await expect(slidingWindowInference(v, [2, 2, 2, 1], id, { patchSize: 0 })).rejects.toThrow(/patchSize\): need a positive integer/);
    await expect(slidingWindowInference(v, [2, 2, 2, 1], id, { patchSize: 2, windowBatchSize: 0 })).rejects.toThrow(/windowBatchSize/);
    const controller = new AbortController();
    controller.abort(new Error('stopped by user'));
    await expect(slidingWindowInference(v, [2, 2, 2, 1], id, { patchSize: 2, signal: controller.signal })).rejects.toThrow(/stopped by user/);
    // An identity network works too (its output is its input): sigmoid of the image.
    const r = await slidingWindowInference(Float32Array.from([0, 1, 2, 3, 4, 5, 6, -7]), [2, 2, 2, 1], id, { patchSize: 2 });
    expect(r.data[7]).toBeCloseTo(1 / (1 + Math.exp(7)), 6);
  });
});
