import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fusedNorm } from './fused-norm.js';
import { type CallKwargs, channelsOf, isTraining, singleInput } from './layer-utils.js';

/** Options of {@link BatchNormalization5D}. Defaults follow PyTorch's `BatchNorm3d`. */
export interface BatchNormalization5DArgs {
  /** Layer name (unique within the model). */
  name?: string;
  /** Added to the variance before the square root. Default `1e-5`. */
  epsilon?: number;
  /**
   * Weight of the current batch in the running statistics, PyTorch's convention:
   * `running = (1 - momentum) * running + momentum * batchStatistic`. Default `0.1`.
   * (Keras' `momentum` is the opposite weight: Keras 0.9 = PyTorch 0.1.)
   */
  momentum?: number;
  /** Learn a per-channel shift `beta` (PyTorch `affine`). Default `true`. */
  center?: boolean;
  /** Learn a per-channel scale `gamma` (PyTorch `affine`). Default `true`. */
  scale?: boolean;
  /** Whether gamma and beta are trained. Default `true`. */
  trainable?: boolean;
  /**
   * Apply LeakyReLU with this slope to the output, fused with the normalisation (one
   * activation less kept for the backward pass). Default: none.
   */
  negativeSlope?: number;
}

/**
 * Batch normalisation over the channel (last) axis of tensors of any rank >= 2, in particular
 * the `[N, D, H, W, C]` tensors of 3-D networks, on which tfjs-layers' own
 * `BatchNormalization` throws.
 *
 * Behaves as PyTorch's `BatchNorm3d` (the norm of nnU-Net's BL variant):
 * - training (`apply(x, { training: true })`, as `fit` and the trainer call it): normalises
 *   with the batch mean and the biased batch variance over all axes but the last, and updates
 *   the running statistics with `momentum`, using the *unbiased* variance (n / (n - 1));
 * - inference (default, `predict`): normalises with the running statistics.
 *
 * Running mean and variance are non-trainable weights: they are saved with the model and are
 * not counted by {@link countTrainableParams}.
 */
export class BatchNormalization5D extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'BatchNormalization5D';
  readonly epsilon: number;
  readonly momentum: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly negativeSlope: number | undefined;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private runningMean: tfl.LayerVariable | null = null;
  private runningVariance: tfl.LayerVariable | null = null;

  constructor(args: BatchNormalization5DArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.epsilon = args.epsilon ?? 1e-5;
    this.momentum = args.momentum ?? 0.1;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.negativeSlope = args.negativeSlope ?? undefined;
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new Error(`${this.name}: momentum must be in [0, 1], got ${this.momentum}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = channelsOf(inputShape, this.name);
    if (this.scale) this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.runningMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.runningVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs, this.name);
      const c = x.shape[x.rank - 1]!;
      const gamma = this.gamma ? this.gamma.read() : tf.ones([c]);
      const beta = this.beta ? this.beta.read() : tf.zeros([c]);
      if (isTraining(kwargs)) {
        const { y, mean, variance } = fusedNorm(x, gamma, beta, {
          groups: c,
          acrossBatch: true,
          epsilon: this.epsilon,
          negativeSlope: this.negativeSlope,
        });
        this.updateRunningStatistics(mean, variance, x.size / c);
        return y;
      }
      // Inference: a per-channel affine map, x * scale + shift, two passes over x (a model
      // prepared with prepareForInference has this folded into the preceding conv instead).
      const { scale, shift } = this.inferenceAffine();
      const y = tf.add(tf.mul(x, scale), shift);
      return this.negativeSlope === undefined ? y : tf.leakyRelu(y, this.negativeSlope);
    });
  }

  /**
   * The inference map as `x * scale + shift` per channel: `scale = gamma / sqrt(var + eps)`,
   * `shift = beta - mean * scale`, from the running statistics. Used to fold this layer into
   * the preceding convolution (see `prepareForInference`). The caller owns the tensors.
   */
  inferenceAffine(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      const c = this.runningMean!.shape[0]!;
      const gamma = this.gamma ? this.gamma.read() : tf.ones([c]);
      const beta = this.beta ? this.beta.read() : tf.zeros([c]);
      const scale = tf.mul(tf.rsqrt(tf.add(this.runningVariance!.read(), this.epsilon)), gamma) as tf.Tensor1D;
      const shift = tf.sub(beta, tf.mul(this.runningMean!.read(), scale)) as tf.Tensor1D;
      return { scale, shift };
    });
  }

  /** PyTorch's update: running = (1 - m) running + m stat, with the unbiased variance. */
  private updateRunningStatistics(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    // Statistics are data, not part of the differentiated graph.
    const m = this.momentum;
    const unbiased = tf.mul(variance, n > 1 ? n / (n - 1) : 1);
    this.runningMean!.write(tf.add(tf.mul(this.runningMean!.read(), 1 - m), tf.mul(mean, m)));
    this.runningVariance!.write(tf.add(tf.mul(this.runningVariance!.read(), 1 - m), tf.mul(unbiased, m)));
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      epsilon: this.epsilon,
      momentum: this.momentum,
      center: this.center,
      scale: this.scale,
      ...(this.negativeSlope === undefined ? {} : { negativeSlope: this.negativeSlope }),
    };
  }
}
serialization.registerClass(BatchNormalization5D);
