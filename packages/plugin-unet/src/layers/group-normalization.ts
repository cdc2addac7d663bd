import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fusedNorm } from './fused-norm.js';
import { type CallKwargs, channelsOf, singleInput } from './layer-utils.js';

/** Options of {@link GroupNormalization}. Defaults follow the BraTS 2021 winners' GN variants. */
export interface GroupNormalizationArgs {
  /** Layer name (unique within the model). */
  name?: string;
  /**
   * Number of channel groups. Default `32` (docs/method.md). Capped at the channel count, so a
   * narrow test network (4 channels) gets one channel per group instead of an error; the
   * (capped) count must divide the channels.
   */
  groups?: number;
  /** Added to the variance before the square root. Default `1e-5`. */
  epsilon?: number;
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
 * Group normalisation (Wu & He 2018) for channels-last tensors of rank >= 3, e.g.
 * `[N, D, H, W, C]`: the channels are split into `groups` consecutive groups and each sample's
 * group is normalised with its own mean and (biased) variance over the group's channels and
 * all spatial positions, then scaled and shifted per channel. Same as PyTorch's `GroupNorm`
 * (what the winners' GN variants use); it behaves the same in training and inference, and
 * it has no running statistics.
 */
export class GroupNormalization extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'GroupNormalization';
  /** Groups requested; the effective count is `min(groups, channels)` (see the args). */
  readonly groups: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly negativeSlope: number | undefined;
  /** Effective number of groups, known once built. */
  protected effectiveGroups = 0;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: GroupNormalizationArgs = {}) {
    super(args);
    this.groups = args.groups ?? 32;
    this.epsilon = args.epsilon ?? 1e-5;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.negativeSlope = args.negativeSlope ?? undefined;
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw new Error(`${this.name}: groups must be a positive integer, got ${this.groups}`);
    }
  }

  /** How many groups to use for `channels`; InstanceNormalization overrides it. */
  protected groupsFor(channels: number): number {
    return Math.min(this.groups, channels);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = channelsOf(inputShape, this.name);
    const g = this.groupsFor(c);
    if (c % g !== 0) {
      throw new Error(`${this.name}: ${g} groups do not divide ${c} channels`);
    }
    this.effectiveGroups = g;
    if (this.scale) this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs, this.name);
      const c = x.shape[x.rank - 1]!;
      const gamma = this.gamma ? this.gamma.read() : tf.ones([c]);
      const beta = this.beta ? this.beta.read() : tf.zeros([c]);
      // Channels of one group are consecutive, as in PyTorch's [N, G, C/G, S] view.
      const { y, mean, variance } = fusedNorm(x, gamma, beta, {
        groups: this.effectiveGroups,
        acrossBatch: false,
        epsilon: this.epsilon,
        negativeSlope: this.negativeSlope,
      });
      tf.dispose([mean, variance]);
      return y;
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      groups: this.groups,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...(this.negativeSlope === undefined ? {} : { negativeSlope: this.negativeSlope }),
    };
  }
}
serialization.registerClass(GroupNormalization);
