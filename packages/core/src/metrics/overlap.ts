import type { Shape3 } from '../volume/types.js';
import type { VoxelArray } from '../volume/voxel-array.js';

/** Voxel counts of a prediction against a reference (non-zero = foreground). */
export interface ConfusionCounts {
  /** True positives: foreground in both. */
  tp: number;
  /** False positives: foreground in the prediction only. */
  fp: number;
  /** False negatives: foreground in the reference only. */
  fn: number;
  /** True negatives: background in both. */
  tn: number;
}

/** Count true/false positives/negatives in one pass. Both masks must have the same length. */
export function confusionCounts(prediction: VoxelArray, reference: VoxelArray): ConfusionCounts {
  if (prediction.length !== reference.length) {
    throw new RangeError(
      `metrics: prediction has ${prediction.length} voxels but reference has ${reference.length}; they must have the same shape`,
    );
  }
  let tp = 0, fp = 0, fn = 0;
  const n = prediction.length;
  for (let i = 0; i < n; i++) {
    const p = prediction[i] !== 0;
    const r = reference[i] !== 0;
    if (p) {
      if (r) tp++;
      else fp++;
    } else if (r) fn++;
  }
  return { tp, fp, fn, tn: n - tp - fp - fn };
}

/** Checks a mask against its declared shape; one line naming the argument. */
export function assertMask(what: string, mask: VoxelArray, shape: Shape3): void {
  const n = shape[0] * shape[1] * shape[2];
  if (mask.length !== n) {
    throw new RangeError(`${what}: mask has ${mask.length} voxels but shape [${shape.join(',')}] needs ${n}`);
  }
}

/**
 * Dice coefficient 2|P∩R| / (|P| + |R|), with nnU-Net's BraTS convention for empty masks:
 * 1 when prediction and reference are both empty, 0 when only one of them is.
 */
export function dice(prediction: VoxelArray, reference: VoxelArray): number {
  return diceFromCounts(confusionCounts(prediction, reference));
}

/** {@link dice} from precomputed counts. */
export function diceFromCounts({ tp, fp, fn }: ConfusionCounts): number {
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 1 : (2 * tp) / denominator;
}

/**
 * Sensitivity (recall) TP / (TP + FN). When the reference is empty there is no positive to
 * miss, and the value is 1 (the 0/0 case, consistent with Dice's both-empty convention);
 * false positives then show in {@link specificity} and Dice.
 */
export function sensitivity(prediction: VoxelArray, reference: VoxelArray): number {
  return sensitivityFromCounts(confusionCounts(prediction, reference));
}

/** {@link sensitivity} from precomputed counts. */
export function sensitivityFromCounts({ tp, fn }: ConfusionCounts): number {
  return tp + fn === 0 ? 1 : tp / (tp + fn);
}

/**
 * Specificity TN / (TN + FP). When the reference covers the whole volume (no negatives)
 * the value is 1 (the 0/0 case).
 */
export function specificity(prediction: VoxelArray, reference: VoxelArray): number {
  return specificityFromCounts(confusionCounts(prediction, reference));
}

/** {@link specificity} from precomputed counts. */
export function specificityFromCounts({ tn, fp }: ConfusionCounts): number {
  return tn + fp === 0 ? 1 : tn / (tn + fp);
}
