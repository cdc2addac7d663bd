import * as tf from '@tensorflow/tfjs-core';
import { type FlipAxes, flipAxesInto } from '../volume/flip.js';
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
  /**
   * Where the sigmoid runs: `true` as a tensor op on the active backend before the logits are
   * read (one multithreaded pass on backend-native, on the GPU with webgpu), `false` fused into
   * the accumulation loop here (on the pure-JS `cpu` backend a separate 6M-element sigmoid
   * costs more than that whole loop). Default: `true` on every backend but `cpu`.
   */
  sigmoidOnBackend?: boolean;
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
 * 3. Each window's logits go through a **sigmoid first**: windows (and, with `mirror`, the
 *    mirrored passes of a window, each mirrored back) are averaged as probabilities, not as
 *    logits. This is what nnU-Net v1 does for region-based training: its
 *    `_internal_maybe_mirror_and_pred_3D` applies `inference_apply_nonlin` (sigmoid) to every
 *    prediction before averaging the mirrors and weighting by the Gaussian.
 * 4. Each window's probabilities are multiplied by the Gaussian importance map
 *    ({@link gaussianImportanceMap}) and added into an accumulator the size of the volume;
 *    the weights are added into a second, single-channel accumulator.
 * 5. The result is accumulator / weights, cropped back to the input's shape.
 *
 * Memory: the two accumulators (`D*H*W*(K+1)` float32), the padded copy of the volume when
 * it is smaller than the patch, one batch of windows (two with `mirror`) and one batch of
 * logits; windows are never all held at once. Mirroring, the sigmoid and the accumulation
 * run in plain loops over typed arrays, with no per-voxel allocation. No tensor outlives
 * the call, also when the predictor throws.
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
  const mirrorPasses: FlipAxes[] = options.mirror ? mirrorCombinations(options.mirrorAxes ?? [0, 1, 2]) : [[]];
  const sigmoidOnBackend = options.sigmoidOnBackend ?? tf.getBackend() !== 'cpu';

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
  // Mirrored copies of the batch are built here (tf.reverse on the cpu backend is ~1000x
  // slower than this loop on 128^3 windows).
  const mirrorBuffer = mirrorPasses.length > 1 ? new Float32Array(batchBuffer.length) : null;
  let K = 0;
  let sum: Float32Array | null = null; // [pD, pH, pW, K], allocated once K is known
  const weight = new Float32Array(pD * pH * pW);
  const grid: Shape3 = [pD, pH, pW];

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
    const batch = batchBuffer.subarray(0, n * windowVoxels * C);
    for (const axes of mirrorPasses) {
      let input = batch;
      if (axes.length > 0) {
        input = mirrorBuffer!.subarray(0, batch.length);
        for (let w = 0; w < n; w++) {
          const span = windowVoxels * C;
          flipAxesInto(batch.subarray(w * span, (w + 1) * span), patch, axes, C, input.subarray(w * span, (w + 1) * span));
        }
      }
      await runPredictor(predictor, input, [n, pd, ph, pw, C], sigmoidOnBackend, (values, channels) => {
        if (K === 0) {
          K = channels;
          sum = new Float32Array(pD * pH * pW * K);
        } else if (channels !== K) {
          throw new Error(`slidingWindowInference: the predictor returned ${channels} channels, earlier ${K}`);
        }
        accumulateProbabilities(sum!, values, sigmoidOnBackend, windows, patch, grid, K, weightsMap, 1 / mirrorPasses.length, axes);
      });
    }
    accumulateWeights(weight, windows, patch, grid, weightsMap);
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
 * Every subset of `axes` (spatial: 0 = D, 1 = H, 2 = W), in nnU-Net's order for 3 axes:
 * none, W, H, W+H, D, D+W, D+H, all.
 */
function mirrorCombinations(axes: FlipAxes): FlipAxes[] {
  for (const a of axes) {
    if (a !== 0 && a !== 1 && a !== 2) throw new RangeError(`slidingWindowInference(mirrorAxes): axis must be 0, 1 or 2, got ${String(a)}`);
  }
  const unique = [...new Set(axes)].sort((a, b) => b - a); // W first, as nnU-Net
  const combos: FlipAxes[] = [];
  for (let mask = 0; mask < 1 << unique.length; mask++) combos.push(unique.filter((_, i) => mask & (1 << i)));
  return combos;
}

/**
 * Runs the predictor on one batch and hands the first output's logits (or, with `sigmoid`,
 * their sigmoid computed on the backend) to `consume` as plain data, `[n, pd, ph, pw, K]`.
 * `consume` runs before the output tensors are disposed (a backend may reuse the memory of a
 * disposed tensor). Every tensor made here, and every tensor the predictor returns, is
 * disposed, also on error.
 */
async function runPredictor(
  predictor: WindowPredictor,
  batch: Float32Array,
  batchShape: [number, number, number, number, number],
  sigmoid: boolean,
  consume: (values: Float32Array, channels: number) => void,
): Promise<void> {
  const x = tf.tensor5d(batch, batchShape, 'float32');
  let outputs: tf.Tensor[] = [];
  let probs: tf.Tensor | undefined;
  try {
    const raw = await predictor(x);
    outputs = Array.isArray(raw) ? raw : [raw];
    const logits = outputs[0];
    checkOutput(logits, batchShape);
    if (sigmoid && logits!.dtype === 'float32') probs = tf.sigmoid(logits!);
    // Read outside any tidy: tidy walks returned typed arrays, which is slow on big tensors.
    const data = await (probs ?? logits!).data();
    if (!(data instanceof Float32Array)) {
      throw new TypeError(`slidingWindowInference: the predictor returned ${logits!.dtype} logits; expected float32`);
    }
    consume(data, logits!.shape[4]!);
  } finally {
    probs?.dispose();
    for (const t of outputs) t.dispose();
    x.dispose(); // harmless when the predictor returned x itself (an identity network)
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
 * Adds `gaussian * sigmoid(logit) * scale` of each window into `sum`, where the logits were
 * predicted on the window mirrored along `mirrored`: they are read at the mirrored position,
 * which flips the prediction back. `scale` = 1 / number of mirror passes, so the passes
 * average. With `areProbabilities` the values are already sigmoid(logit) (computed on the
 * backend); otherwise the sigmoid is computed here, fused with the accumulation, rather than
 * as a tfjs op (a 6M-element sigmoid on the cpu backend costs more than this whole loop).
 */
function accumulateProbabilities(
  sum: Float32Array,
  logits: Float32Array,
  areProbabilities: boolean,
  windows: Shape3[],
  patch: Shape3,
  grid: Shape3,
  K: number,
  gaussian: Float32Array | null,
  scale: number,
  mirrored: FlipAxes,
): void {
  const [pd, ph, pw] = patch;
  const [, H, W] = grid;
  const fz = mirrored.includes(0), fy = mirrored.includes(1), fx = mirrored.includes(2);
  const windowSize = pd * ph * pw * K;
  for (let w = 0; w < windows.length; w++) {
    const [z0, y0, x0] = windows[w]!;
    const base = w * windowSize;
    for (let dz = 0; dz < pd; dz++) {
      const sz = fz ? pd - 1 - dz : dz;
      for (let dy = 0; dy < ph; dy++) {
        const sy = fy ? ph - 1 - dy : dy;
        const g0 = (dz * ph + dy) * pw; // the Gaussian is indexed at the unmirrored position
        const src0 = base + (sz * ph + sy) * pw * K;
        const dst0 = (((z0 + dz) * H + (y0 + dy)) * W + x0) * K;
        for (let dx = 0; dx < pw; dx++) {
          const weight = (gaussian ? gaussian[g0 + dx]! : 1) * scale;
          let src = src0 + (fx ? pw - 1 - dx : dx) * K;
          let dst = dst0 + dx * K;
          if (areProbabilities) for (let k = 0; k < K; k++, src++, dst++) sum[dst] = sum[dst]! + weight * logits[src]!;
          else for (let k = 0; k < K; k++, src++, dst++) sum[dst] = sum[dst]! + weight / (1 + Math.exp(-logits[src]!));
        }
      }
    }
  }
}

/** Adds each window's Gaussian (or 1) into the weight accumulator, once per window. */
function accumulateWeights(weightAcc: Float32Array, windows: Shape3[], patch: Shape3, grid: Shape3, gaussian: Float32Array | null): void {
  const [pd, ph, pw] = patch;
  const [, H, W] = grid;
  for (const [z0, y0, x0] of windows) {
    let g = 0;
    for (let dz = 0; dz < pd; dz++) {
      for (let dy = 0; dy < ph; dy++) {
        const v0 = ((z0 + dz) * H + (y0 + dy)) * W + x0;
        for (let dx = 0; dx < pw; dx++, g++) weightAcc[v0 + dx] = weightAcc[v0 + dx]! + (gaussian ? gaussian[g]! : 1);
      }
    }
  }
}
