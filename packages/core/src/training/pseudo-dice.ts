import * as tf from '@tensorflow/tfjs-core';
import type { CriterionFactory, ValidationCriterion } from '../contracts/criterion.js';

/**
 * nnU-Net's online validation metric ("pseudo Dice"): per region, true/false positives and
 * false negatives of `sigmoid(logits) > 0.5` against the binary target, summed over every
 * sample and voxel of every validation batch of the epoch, then
 * `dice = 2 tp / (2 tp + fp + fn)`.
 *
 * Empty regions follow nnU-Net v2 (`on_validation_epoch_end`): a region with
 * `2 tp + fp + fn = 0` (empty in both prediction and target over the whole validation pass)
 * has Dice NaN, and the mean skips NaN regions (`np.nanmean`). When every region is NaN the
 * mean is NaN too; the trainer then leaves the EMA unchanged (nnU-Net would let the NaN
 * poison the EMA for the rest of the run; see the trainer's docs). NaN is written as `null`
 * in events.jsonl.
 */
export class PseudoDiceAccumulator {
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;

  /** @param regions region (target channel) names, in channel order */
  constructor(readonly regions: readonly string[]) {
    this.tp = new Float64Array(regions.length);
    this.fp = new Float64Array(regions.length);
    this.fn = new Float64Array(regions.length);
  }

  /**
   * Counts of one batch as a `[3, K]` tensor (rows tp, fp, fn), for {@link add}. Pure tf
   * ops in a tidy; the caller disposes the result after reading it with `await data()`.
   * @param logits full-resolution output `[N, D, H, W, K]`
   * @param target binary target `[N, D, H, W, K]` (float 0/1)
   */
  static counts(logits: tf.Tensor, target: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const pred = tf.cast(tf.greater(tf.sigmoid(logits), 0.5), 'float32');
      const axes = [0, 1, 2, 3];
      const tp = tf.sum(tf.mul(pred, target), axes);
      const fp = tf.sub(tf.sum(pred, axes), tp);
      const fn = tf.sub(tf.sum(target, axes), tp);
      return tf.stack([tp, fp, fn]) as tf.Tensor2D;
    });
  }

  /** Add the `[3, K]` counts of one batch, as read from {@link counts}. */
  add(counts: ArrayLike<number>): void {
    const k = this.regions.length;
    if (counts.length !== 3 * k) throw new RangeError(`PseudoDiceAccumulator.add: expected ${3 * k} counts, got ${counts.length}`);
    for (let c = 0; c < k; c++) {
      this.tp[c]! += counts[c]!;
      this.fp[c]! += counts[k + c]!;
      this.fn[c]! += counts[2 * k + c]!;
    }
  }

  /** Per-region Dice by name, and their NaN-skipping mean. */
  result(): { dice: Record<string, number>; meanDice: number } {
    const dice: Record<string, number> = {};
    let sum = 0;
    let n = 0;
    this.regions.forEach((name, c) => {
      const denom = 2 * this.tp[c]! + this.fp[c]! + this.fn[c]!;
      const d = denom === 0 ? Number.NaN : (2 * this.tp[c]!) / denom;
      dice[name] = d;
      if (!Number.isNaN(d)) {
        sum += d;
        n++;
      }
    });
    return { dice, meanDice: n === 0 ? Number.NaN : sum / n };
  }
}

/** Registry entry `pseudo-dice`: nnU-Net's online validation criterion (the trainer's default). */
export const pseudoDiceCriterionFactory: CriterionFactory = {
  name: 'pseudo-dice',
  description: "nnU-Net's online pseudo-Dice: 2tp/(2tp+fp+fn) of sigmoid > 0.5, summed over the validation batches",
  create: () => pseudoDiceCriterion(),
};

/** The `pseudo-dice` {@link ValidationCriterion}. */
export function pseudoDiceCriterion(): ValidationCriterion {
  return {
    name: 'pseudo-dice',
    start(channels) {
      const acc = new PseudoDiceAccumulator(channels);
      return { batchStatistics: (logits, target) => PseudoDiceAccumulator.counts(logits, target), add: (v) => acc.add(v), result: () => acc.result() };
    },
  };
}
