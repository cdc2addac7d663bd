import * as tf from '@tensorflow/tfjs-core';
import type { FlipAxes } from '../volume/flip.js';
import { padToShape, unpad } from '../volume/pad.js';
import type { Shape3, Shape4, Volume } from '../volume/types.js';
import { gaussianImportanceMap } from './gaussian.js';
import { slidingWindowSteps } from './steps.js';

/**
 * Runs the network on a batch of windows.
 *
 * Receives `[n, pd, ph, pw, C]` (channels-last, `n <= windowBatchSize`) and returns logits
 * `[n, pd, ph, pw, K]`, or a list whose first element is that (deep-supervision networks:
 * highest resolution first; the other outputs are ignored). May be async (e.g. a model's
 * `executeAsync`). The function owns the input (it is disposed after the call, so do not
 * dispose or keep it) and takes ownership of every returned tensor (all are disposed).
 * The predictor must clean up its own intermediates: `model.predict` does.
 *
 * @example
 * ```ts
 * const predictor: WindowPredictor = (x) => model.predict(x) as tf.Tensor | tf.Tensor[];
 * ```
 */
export type WindowPredictor = (windows: tf.Tensor5D) => tf.Tensor | tf.Tensor[] | Promise<tf.Tensor | tf.Tensor[]>;

/** Progress of {@link slidingWindowInference}, reported after each batch of windows. */
export interface SlidingWindowProgress {
  /** Windows predicted so far (each counts once, however many mirrored passes it took). */
  done: number;
  /** Windows in the whole volume. */
  total: number;
}

/** Options of {@link slidingWindowInference}. Defaults follow nnU-Net v1. */
export interface SlidingWindowOptions {
  /** Window size [D, H, W], or one edge for a cube: the patch size the network was trained on. */
  patchSize: number | Shape3;
  /** Distance between windows as a fraction of the patch, in (0, 1]. Default 0.5. */
  stepFraction?: number;
  /**
   * Test-time augmentation by mirroring: each window is also predicted mirrored along every
   * combination of `mirrorAxes` (8 passes for 3 axes), each prediction is mirrored back, and
   * the probabilities are averaged. Default false.
   */
  mirror?: boolean;
  /** Spatial axes used by `mirror` (0 = D, 1 = H, 2 = W). Default all three. */
  mirrorAxes?: FlipAxes;
  /** Windows per predictor call. Larger is faster on parallel backends, costs memory. Default 1. */
  windowBatchSize?: number;
  /**
   * Weight overlapping windows with the Gaussian importance map (sigma = patch * sigmaScale).
   * Default true. As in nnU-Net, a single window covering the volume is never weighted.
   */
  gaussian?: boolean;
  /** Gaussian sigma as a fraction of the patch size. Default 1/8. */
  sigmaScale?: number;
  /**
   * Value used to pad a volume smaller than the patch (centred padding, cropped away
   * afterwards). Default 0, the mean of z-scored images (what nnU-Net pads with).
   */
  padValue?: number;
  /** Called after each batch of windows. */
  onProgress?: (progress: SlidingWindowProgress) => void;
  /** Abort between batches; the function then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Sliding-window inference over a whole volume, as nnU-Net v1's
 * `_internal_predict_3D_3Dconv_tiled`, returning per-channel probabilities.
 *
 * 1. A volume smaller than the patch on some axis is padded (centred, `padValue`).
 * 2. Windows start at {@link slidingWindowSteps} offsets per axis (all combinations).
 * 3. Each window's logits go through a **sigmoid first** (with `mirror`, the sigmoid outputs
 *    of the mirrored passes are averaged); nnU-Net's `inference_apply_nonlin` is applied per
 *    window in the same way, so windows are averaged as probabilities, not logits.
 * 4. Each window's probabilities are multiplied by the Gaussian importance map
 *    ({@link gaussianImportanceMap}) and added into an accumulator the size of the volume;
 *    the weights are added into a second, single-channel accumulator.
 * 5. The result is accumulator / weights, cropped back to the input's shape.
 *
 * Memory: the two accumulators (`D*H*W*(K+1)` float32) plus one batch of windows; windows
 * are never all held at once. No tensor outlives the call.
 *
 * @param volume channels-last image, `[D, H, W, C]` float32
 * @param shape `[D, H, W, C]`
 * @param predictor the network, see {@link WindowPredictor}
 * @returns probabilities in [0, 1], `[D, H, W, K]` with K the network's output channels
 */
export async function slidingWindowInference(
  volume: Float32Array,
  shape: Shape4,
  predictor: WindowPredictor,
  options: SlidingWindowOptions,
): Promise<Volume> {
  const [D, H, W, C] = shape;
  if (shape.length !== 4 || shape.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new RangeError(`slidingWindowInference(shape): need four positive integers [D,H,W,C], got [${shape.join(',')}]`);
  }
  if (volume.length !== D * H * W * C) {
    throw new RangeError(`slidingWindowInference(volume): has ${volume.length} values, shape [${shape.join(',')}] needs ${D * H * W * C}`);
  }
  const patch = normalisePatch(options.patchSize);
  const stepFraction = options.stepFraction ?? 0.5;
  const batchSize = options.windowBatchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`slidingWindowInference(windowBatchSize): must be a positive integer, got ${batchSize}`);
  }
  const mirrorPasses = options.mirror ? mirrorCombinations(options.mirrorAxes ?? [0, 1, 2]) : [[]];

  // 1. Pad to at least the patch.
  const padded = padToShape(volume, [D, H, W], patch, C, options.padValue ?? 0);
  const [pD, pH, pW] = padded.shape;
  const data = padded.data;

  // 2. Window origins.
  const [sz, sy, sx] = slidingWindowSteps(patch, padded.shape, stepFraction);
  const origins: Shape3[] = [];
  for (const z of sz) for (const y of sy) for (const x of sx) origins.push([z, y, x]);
  const total = origins.length;
  const useGaussian = (options.gaussian ?? true) && total > 1;
  const weightsMap = useGaussian ? gaussianImportanceMap(patch, options.sigmaScale ?? 1 / 8) : null;

  const [pd, ph, pw] = patch;
  const windowVoxels = pd * ph * pw;
  const batchBuffer = new Float32Array(Math.min(batchSize, total) * windowVoxels * C);
  let K = 0;
  let sum: Float32Array | null = null; // [pD, pH, pW, K], allocated once K is known
  const weight = new Float32Array(pD * pH * pW);

  for (let first = 0; first < total; first += batchSize) {
    options.signal?.throwIfAborted();
    const n = Math.min(batchSize, total - first);
    const windows = origins.slice(first, first + n);
    // Gather the windows into the batch buffer, one contiguous W-row at a time.
    const rowLen = pw * C;
    let o = 0;
    for (const [z0, y0, x0] of windows) {
      for (let dz = 0; dz < pd; dz++) {
        for (let dy = 0; dy < ph; dy++) {
          const src = (((z0 + dz) * pH + (y0 + dy)) * pW + x0) * C;
          batchBuffer.set(data.subarray(src, src + rowLen), o);
          o += rowLen;
        }
      }
    }
    await predictProbabilities(predictor, batchBuffer.subarray(0, n * windowVoxels * C), [n, pd, ph, pw, C], mirrorPasses, (probs, channels) => {
      if (K === 0) {
        K = channels;
        sum = new Float32Array(pD * pH * pW * K);
      } else if (channels !== K) {
        throw new Error(`slidingWindowInference: the predictor returned ${channels} channels, earlier ${K}`);
      }
      accumulate(sum!, weight, probs, windows, patch, [pD, pH, pW], K, weightsMap, 1 / mirrorPasses.length);
    });
    options.onProgress?.({ done: first + n, total });
  }

  // 5. Normalise by the accumulated weights, in place, then crop the padding away.
  const out = sum!;
  for (let v = 0, i = 0; v < weight.length; v++) {
    const inv = 1 / weight[v]!;
    for (let k = 0; k < K; k++, i++) out[i] = out[i]! * inv;
  }
  return { data: unpad(out, padded.shape, padded.box, K), shape: [D, H, W, K] };
}

function normalisePatch(patchSize: number | Shape3): Shape3 {
  const p: Shape3 = typeof patchSize === 'number' ? [patchSize, patchSize, patchSize] : patchSize;
  if (!Array.isArray(p) || p.length !== 3 || p.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new RangeError(`slidingWindowInference(patchSize): need a positive integer or [D,H,W], got ${JSON.stringify(patchSize)}`);
  }
  return [...p] as Shape3;
}

/**
 * Every subset of `axes`, in nnU-Net's order for 3 axes (none, W, H, W+H, D, D+W, D+H, all),
 * as tensor axes of `[n, D, H, W, K]`.
 */
function mirrorCombinations(axes: FlipAxes): number[][] {
  for (const a of axes) {
    if (a !== 0 && a !== 1 && a !== 2) throw new RangeError(`slidingWindowInference(mirrorAxes): axis must be 0, 1 or 2, got ${String(a)}`);
  }
  const unique = [...new Set(axes)].sort((a, b) => b - a); // W first, as nnU-Net
  const combos: number[][] = [];
  for (let mask = 0; mask < 1 << unique.length; mask++) {
    combos.push(unique.filter((_, i) => mask & (1 << i)).map((a) => a + 1));
  }
  return combos;
}

/**
 * Runs the predictor on one batch, once per mirror pass, and hands the sum of the sigmoid
 * probabilities (mirrored back) to `consume` as plain data, `[n, pd, ph, pw, K]`. `consume`
 * runs before the tensor holding that data is disposed (a backend may reuse the memory of a
 * disposed tensor). Every tensor made here is disposed.
 */
async function predictProbabilities(
  predictor: WindowPredictor,
  batch: Float32Array,
  batchShape: [number, number, number, number, number],
  passes: number[][],
  consume: (probs: Float32Array, channels: number) => void,
): Promise<void> {
  const x = tf.tensor5d(batch, batchShape, 'float32');
  let total: tf.Tensor | null = null;
  try {
    for (const axes of passes) {
      const input = axes.length > 0 ? (tf.reverse(x, axes) as tf.Tensor5D) : x;
      let outputs: tf.Tensor[] = [];
      try {
        const raw = await predictor(input);
        outputs = Array.isArray(raw) ? raw : [raw];
        const logits = outputs[0];
        checkOutput(logits, batchShape);
        const prob = tf.tidy(() => {
          const p = tf.sigmoid(logits!);
          return axes.length > 0 ? tf.reverse(p, axes) : p;
        });
        if (total === null) total = prob;
        else {
          const next: tf.Tensor = tf.add(total, prob);
          total.dispose();
          prob.dispose();
          total = next;
        }
      } finally {
        // The predictor may hand back its input (an identity network): never dispose `x` here.
        for (const t of outputs) if (t !== x) t.dispose();
        if (input !== x) input.dispose();
      }
    }
    const channels = total!.shape[4]!;
    // Read outside any tidy: tidy walks returned typed arrays, which is slow on big tensors.
    consume((await total!.data()) as Float32Array, channels);
  } finally {
    total?.dispose();
    x.dispose();
  }
}

function checkOutput(t: tf.Tensor | undefined, batchShape: number[]): void {
  if (!(t instanceof tf.Tensor)) {
    throw new TypeError('slidingWindowInference: the predictor must return a tensor or a list of tensors');
  }
  const s = t.shape;
  if (s.length !== 5 || s[0] !== batchShape[0] || s[1] !== batchShape[1] || s[2] !== batchShape[2] || s[3] !== batchShape[3]) {
    throw new RangeError(
      `slidingWindowInference: the predictor returned shape [${s.join(',')}] for windows [${batchShape.join(',')}]; ` +
        `expected logits [${batchShape.slice(0, 4).join(',')},K] (same spatial size as the window)`,
    );
  }
}

/**
 * Adds `weight * probability * scale` of each window into `sum` and `weight` into the weight
 * accumulator (scale = 1 / number of mirror passes: `probs` holds their sum).
 */
function accumulate(
  sum: Float32Array,
  weightAcc: Float32Array,
  probs: Float32Array,
  windows: Shape3[],
  patch: Shape3,
  grid: Shape3,
  K: number,
  gaussian: Float32Array | null,
  scale: number,
): void {
  const [pd, ph, pw] = patch;
  const [, H, W] = grid;
  let p = 0; // index into probs, [n, pd, ph, pw, K]
  for (const [z0, y0, x0] of windows) {
    let g = 0; // index into the Gaussian, [pd, ph, pw]
    for (let dz = 0; dz < pd; dz++) {
      for (let dy = 0; dy < ph; dy++) {
        const voxel0 = ((z0 + dz) * H + (y0 + dy)) * W + x0;
        for (let dx = 0; dx < pw; dx++, g++) {
          const w = gaussian ? gaussian[g]! : 1;
          const v = voxel0 + dx;
          weightAcc[v] = weightAcc[v]! + w;
          const ws = w * scale;
          let s = v * K;
          for (let k = 0; k < K; k++, s++, p++) sum[s] = sum[s]! + probs[p]! * ws;
        }
      }
    }
  }
}
