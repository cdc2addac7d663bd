import type * as tf from '@tensorflow/tfjs-core';
import type { Factory } from './factory.js';

/**
 * A training loss.
 *
 * @param outputs the network's outputs (logits), highest resolution first; one entry per
 *   deep-supervision head, or a single entry. Channels-last `[N, D, H, W, K]`.
 * @param targets binary targets, channels-last `[N, D, H, W, K]`, float32 0/1. Either one per
 *   output (same shapes) or a single full-resolution target that the loss downsamples itself
 *   (nearest neighbour) for lower heads.
 * @returns a scalar tensor. Called inside the trainer's gradient tape: use tf ops only.
 */
export interface Loss {
  readonly name: string;
  compute(outputs: tf.Tensor[], targets: tf.Tensor[]): tf.Scalar;
}

/** Registry entry for losses (e.g. `dice-bce` with `{ batchDice: true, smooth: 0 }`). */
export type LossFactory<O = Record<string, unknown>> = Factory<Loss, O>;
