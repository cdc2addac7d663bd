import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogits } from './bce-with-logits.js';
import { softDice } from './soft-dice.js';

/** Options of {@link diceBceLoss}; defaults are the BraTS 2021 winners' settings. */
export interface DiceBceOptions {
  /** Batch Dice (see {@link SoftDiceOptions.batchDice}). Default `true`. */
  batchDice?: boolean;
  /** Dice smoothing. Default `0`. */
  smooth?: number;
}

/**
 * nnU-Net's `DC_and_BCE_loss` for region-based training, channels-last: mean BCE-with-logits
 * plus the soft Dice term reported as `-dc` (all channels count, `do_bg` true), summed 1:1.
 * The result can be negative (it tends to -1 for a perfect prediction).
 *
 * Public contract (docs/architecture.md): `diceBceLoss(logits, targets, { batchDice, smooth })`.
 *
 * @param logits `[N, D, H, W, K]` network outputs (no sigmoid: the loss applies it)
 * @param targets same shape, binary region masks (WT, TC, ET)
 * @returns a scalar tensor
 */
export function diceBceLoss(logits: tf.Tensor, targets: tf.Tensor, options: DiceBceOptions = {}): tf.Scalar {
  return tf.tidy(() =>
    tf.add(
      bceWithLogits(logits, targets),
      softDice(logits, targets, { batchDice: options.batchDice ?? true, smooth: options.smooth ?? 0, includeBackground: true }),
    ) as tf.Scalar,
  );
}
