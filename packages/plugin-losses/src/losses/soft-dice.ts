import * as tf from '@tensorflow/tfjs-core';
import { checkPair } from './check-shapes.js';

/** Options of {@link softDice}; the defaults are nnU-Net's `SoftDiceLoss` defaults. */
export interface SoftDiceOptions {
  /**
   * Sum tp/fp/fn over the batch too, giving one Dice per channel (nnU-Net `batch_dice`);
   * otherwise one Dice per sample and channel, then averaged. Default `false`.
   */
  batchDice?: boolean;
  /** Added to numerator and denominator. Default `1` (the BraTS winners use `0`). */
  smooth?: number;
  /**
   * Count channel 0 (nnU-Net `do_bg`). Default `true`: with region targets (WT, TC, ET) every
   * channel is a foreground region and counts. `false` drops channel 0, as for softmax
   * outputs whose channel 0 is the background.
   */
  includeBackground?: boolean;
  /** nnU-Net's name for {@link includeBackground}; used when that is not given. */
  doBg?: boolean;
}

/**
 * nnU-Net's soft Dice loss with a sigmoid nonlinearity (channels-last):
 * `p = sigmoid(logits)`; per channel (and per sample unless `batchDice`)
 * `tp = sum p z`, `fp = sum p (1 - z)`, `fn = sum (1 - p) z` over space;
 * `dc = (2 tp + smooth) / (2 tp + fp + fn + smooth + 1e-8)`; returns `-mean(dc)`.
 *
 * With `smooth = 0`, a channel empty in both target and prediction contributes `dc ~ 0` (not
 * 1): nnU-Net's behaviour, kept on purpose; batch Dice makes that rare (the region must be
 * absent from the whole batch).
 *
 * @returns a scalar in [-1, 0]; differentiable w.r.t. `logits`
 */
export function softDice(logits: tf.Tensor, targets: tf.Tensor, options: SoftDiceOptions = {}): tf.Scalar {
  checkPair('softDice', logits, targets);
  const batchDice = options.batchDice ?? false;
  const smooth = options.smooth ?? 1;
  const includeBackground = options.includeBackground ?? options.doBg ?? true;
  const channels = logits.shape[4]!;
  if (!includeBackground && channels < 2) {
    throw new Error(`softDice: includeBackground=false needs at least 2 channels, got ${channels}`);
  }
  return tf.tidy(() => {
    const axes = batchDice ? [0, 1, 2, 3] : [1, 2, 3];
    const p = tf.sigmoid(logits);
    const tp = tf.sum(tf.mul(p, targets), axes);
    // fp + fn = sum p + sum z - 2 tp; summed separately as the reference does.
    const fp = tf.sum(tf.mul(p, tf.sub(1, targets)), axes);
    const fn = tf.sum(tf.mul(tf.sub(1, p), targets), axes);
    const twoTp = tf.mul(tp, 2);
    let dc = tf.div(tf.add(twoTp, smooth), tf.add(tf.add(tf.add(tf.add(twoTp, fp), fn), smooth), 1e-8));
    if (!includeBackground) dc = tf.slice(dc, batchDice ? [1] : [0, 1], batchDice ? [-1] : [-1, -1]);
    return tf.neg(tf.mean(dc)) as tf.Scalar;
  });
}
