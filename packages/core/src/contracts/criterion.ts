import type * as tf from '@tensorflow/tfjs-core';
import type { Factory } from './factory.js';

/**
 * One validation pass of a {@link ValidationCriterion}: statistics per batch, summed, then a
 * score per target channel and their mean. Higher is better: the trainer keeps an EMA of the
 * mean and writes the `best` checkpoint when it improves.
 */
export interface CriterionAccumulator {
  /**
   * Statistics of one validation batch, as a tensor the trainer reads with `await data()` and
   * hands to {@link add}. Called inside `tf.tidy`: use tf ops only.
   * @param logits the full-resolution network output `[N, D, H, W, K]`
   * @param target the binary target `[N, D, H, W, K]` (float 0/1)
   */
  batchStatistics(logits: tf.Tensor, target: tf.Tensor): tf.Tensor;
  /** Add the values read from one {@link batchStatistics} tensor. */
  add(values: ArrayLike<number>): void;
  /**
   * The score per channel name (`validationEnd.dice`) and their mean (`validationEnd.meanDice`);
   * NaN where undefined (e.g. a region empty everywhere), left out of the mean.
   */
  result(): { dice: Record<string, number>; meanDice: number };
}

/**
 * The trainer's online validation criterion, chosen by name (`pseudo-dice`, nnU-Net's, is the
 * default and registered by `corePlugin()`). `start` is called once per validation pass.
 */
export interface ValidationCriterion {
  readonly name: string;
  start(channels: readonly string[]): CriterionAccumulator;
}

/** Registry entry for validation criteria. */
export type CriterionFactory<O = Record<string, unknown>> = Factory<ValidationCriterion, O>;
