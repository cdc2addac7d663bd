import type { Shape3 } from '../volume/types.js';
import type { VoxelArray } from '../volume/voxel-array.js';
import { hd95 } from './hausdorff.js';
import {
  confusionCounts,
  type dice,
  diceFromCounts,
  type sensitivity,
  sensitivityFromCounts,
  type specificity,
  specificityFromCounts,
} from './overlap.js';

/** An evaluated region: a name and the label values that belong to it. */
export interface RegionDefinition {
  /** Key in the results, e.g. `WT`. */
  readonly name: string;
  /** Label values that make up the region, e.g. `[1, 2, 4]`. */
  readonly labels: readonly number[];
}

/** Metric values for one region. */
export interface RegionScores {
  /** See {@link dice}. */
  dice: number;
  /** In mm; see {@link hd95}. NaN when skipped (`hd95: false`). */
  hd95: number;
  /** See {@link sensitivity}. */
  sensitivity: number;
  /** See {@link specificity}. */
  specificity: number;
}

/**
 * A binary mask (1 where the label is in `labels`) from a label volume. Label volumes may be
 * stored as any typed array, including floats holding integers (BraTS seg files do that).
 */
export function regionMask(labelVolume: VoxelArray, labels: readonly number[]): Uint8Array {
  const n = labelVolume.length;
  const out = new Uint8Array(n);
  // A lookup table over small non-negative integer labels keeps the loop branch-light on
  // 9M-voxel volumes; any other value (negative, fractional, >= 256) is in no region
  // unless listed, which the slow path checks.
  const table = new Uint8Array(256);
  const others = new Set<number>();
  for (const l of labels) {
    if (Number.isInteger(l) && l >= 0 && l < 256) table[l] = 1;
    else others.add(l);
  }
  for (let i = 0; i < n; i++) {
    const v = labelVolume[i]!;
    const idx = v | 0;
    out[i] = idx === v && idx >= 0 && idx < 256 ? table[idx]! : others.has(v) ? 1 : 0;
  }
  return out;
}

/** Options of {@link evaluateRegions}. */
export interface EvaluateRegionsOptions {
  /** Regions to score, e.g. `@voxseg/plugin-data-brats`'s `BRATS_REGIONS` (WT, TC, ET). */
  regions: readonly RegionDefinition[];
  /** Skip HD95 (the only costly metric) when false; its value is then NaN. Default true. */
  hd95?: boolean;
  /** HD95 when exactly one mask is empty (see {@link hd95}'s `oneEmpty`). */
  hd95OneEmpty?: number;
}

/**
 * Dice, HD95, sensitivity and specificity per region from two label volumes, with the
 * empty-mask conventions of each metric.
 *
 * @param prediction predicted labels [D, H, W]
 * @param reference ground-truth labels [D, H, W]
 * @param shape [D, H, W]
 * @param spacing voxel size in mm along [D, H, W]
 * @returns scores keyed by region name, in the order of `regions`
 */
export function evaluateRegions(
  prediction: VoxelArray,
  reference: VoxelArray,
  shape: Shape3,
  spacing: Shape3 = [1, 1, 1],
  options: EvaluateRegionsOptions,
): Record<string, RegionScores> {
  const n = shape[0] * shape[1] * shape[2];
  if (prediction.length !== n || reference.length !== n) {
    throw new RangeError(
      `evaluateRegions: prediction has ${prediction.length} voxels and reference ${reference.length}, shape [${shape.join(',')}] needs ${n}`,
    );
  }
  const regions = options.regions;
  const result: Record<string, RegionScores> = {};
  for (const region of regions) {
    const p = regionMask(prediction, region.labels);
    const r = regionMask(reference, region.labels);
    const counts = confusionCounts(p, r);
    result[region.name] = {
      dice: diceFromCounts(counts),
      hd95: options.hd95 === false ? NaN : hd95(p, r, shape, spacing, options.hd95OneEmpty === undefined ? {} : { oneEmpty: options.hd95OneEmpty }),
      sensitivity: sensitivityFromCounts(counts),
      specificity: specificityFromCounts(counts),
    };
  }
  return result;
}
