import type * as tf from '@tensorflow/tfjs-core';
import type { Loss, LossFactory } from '@voxseg/core';
import { bceWithLogits } from './bce-with-logits.js';
import { deepSupervisionLoss, deepSupervisionWeights } from './deep-supervision.js';
import { type DiceBceOptions, diceBceLoss } from './dice-bce.js';
import { type SoftDiceOptions, softDice } from './soft-dice.js';

/**
 * A single-output Loss from a function of (logits, targets). Given several outputs it refuses
 * with a message saying how to wrap it, instead of silently ignoring the lower heads.
 */
function singleOutputLoss(name: string, fn: (logits: tf.Tensor, targets: tf.Tensor) => tf.Scalar): Loss {
  return {
    name,
    compute(outputs, targets) {
      if (outputs.length !== 1 || targets.length !== 1) {
        throw new Error(
          `loss "${name}": got ${outputs.length} outputs and ${targets.length} targets; for deep-supervision ` +
            `outputs use { loss: 'deep-supervision', options: { loss: '${name}' } }`,
        );
      }
      return fn(outputs[0]!, targets[0]!);
    },
  };
}

/** `bce`: mean BCE-with-logits ({@link bceWithLogits}). No options. */
export const bceLossFactory: LossFactory<Record<string, never>> = {
  name: 'bce',
  description: 'binary cross-entropy on logits, mean over all elements',
  create: () => singleOutputLoss('bce', bceWithLogits),
};

/** `soft-dice`: nnU-Net's sigmoid soft Dice, reported as -dc ({@link softDice}). */
export const softDiceLossFactory: LossFactory<SoftDiceOptions> = {
  name: 'soft-dice',
  description: 'soft Dice on sigmoid(logits), -dc; options batchDice, smooth, includeBackground',
  defaults: { batchDice: false, smooth: 1, includeBackground: true },
  create: (options) => singleOutputLoss('soft-dice', (x, z) => softDice(x, z, options)),
};

/** `dice-bce`: nnU-Net's DC_and_BCE_loss ({@link diceBceLoss}); defaults batch Dice, smooth 0. */
export const diceBceLossFactory: LossFactory<DiceBceOptions> = {
  name: 'dice-bce',
  description: "BCE + soft Dice (-dc), nnU-Net's DC_and_BCE_loss; options batchDice, smooth",
  defaults: { batchDice: true, smooth: 0 },
  create: (options) => singleOutputLoss('dice-bce', (x, z) => diceBceLoss(x, z, options)),
};

/** Options of the `deep-supervision` loss. */
export interface DeepSupervisionOptions {
  /** Name of the registered per-head loss. Default `'dice-bce'`. */
  loss?: string;
  /** Options for the per-head loss (merged over its defaults). */
  lossOptions?: Record<string, unknown>;
  /** Per-head weights; default 1/2^i with the lowest head 0, normalised. */
  weights?: number[];
}

/**
 * `deep-supervision`: the weighted sum of another registered loss over every output head
 * (nnU-Net's MultipleOutputLoss2); a single full-resolution target is downsampled by nearest
 * neighbour for the lower heads.
 */
export const deepSupervisionLossFactory: LossFactory<DeepSupervisionOptions> = {
  name: 'deep-supervision',
  description: 'sum over deep-supervision heads of another loss, weights 1/2^i (lowest 0), normalised',
  defaults: { loss: 'dice-bce' },
  create(options, ctx) {
    const innerName = options.loss ?? 'dice-bce';
    if (innerName === 'deep-supervision') throw new Error('loss "deep-supervision" cannot wrap itself');
    const factory = ctx.get('loss', innerName);
    const inner = factory.create({ ...factory.defaults, ...options.lossOptions }, ctx);
    return {
      name: 'deep-supervision',
      compute(outputs, targets) {
        const weights = options.weights ?? deepSupervisionWeights(outputs.length);
        return deepSupervisionLoss((o, t) => inner.compute([o], [t]), outputs, targets, weights);
      },
    };
  },
};
