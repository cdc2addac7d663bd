/**
 * @voxseg/plugin-losses: BCE-with-logits, soft Dice, nnU-Net's DC_and_BCE_loss and the
 * deep-supervision wrapper, channels-last, as functions and as registered Loss factories.
 * @packageDocumentation
 */
export { lossesPlugin } from './plugin.js';
export { bceWithLogits } from './losses/bce-with-logits.js';
export { softDice, type SoftDiceOptions } from './losses/soft-dice.js';
export { diceBceLoss, type DiceBceOptions } from './losses/dice-bce.js';
export { deepSupervisionLoss, deepSupervisionWeights, type HeadLoss } from './losses/deep-supervision.js';
export { downsampleTarget, nearestSourceIndex } from './losses/downsample-target.js';
export {
  bceLossFactory,
  softDiceLossFactory,
  diceBceLossFactory,
  deepSupervisionLossFactory,
  type DeepSupervisionOptions,
} from './losses/factories.js';
