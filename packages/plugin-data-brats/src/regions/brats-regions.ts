import type { RegionDefinition, Shape3, TargetEncoding } from '@voxseg/core';

/** BraTS label values: 0 background, 1 necrotic / non-enhancing core, 2 edema, 4 enhancing tumour (no 3). */
export const BRATS_LABELS = { background: 0, necrosis: 1, edema: 2, enhancing: 4 } as const;

/** The label values a BraTS segmentation may contain. */
export const BRATS_LABEL_VALUES: readonly number[] = [0, 1, 2, 4];

/**
 * The evaluated regions and the labels that make them up, in the channel order used everywhere
 * in voxseg (targets, network outputs, metrics): whole tumour {1,2,4}, tumour core {1,4},
 * enhancing tumour {4}. The one definition of the BraTS regions.
 */
export const BRATS_REGIONS: readonly RegionDefinition[] = Object.freeze([
  { name: 'WT', labels: [1, 2, 4] },
  { name: 'TC', labels: [1, 4] },
  { name: 'ET', labels: [4] },
]);

/** The region names in channel order: WT, TC, ET. */
export const BRATS_REGION_NAMES: readonly string[] = BRATS_REGIONS.map((r) => r.name);

/**
 * HD95 of a region present in only one of prediction and reference: nnU-Net's BraTS
 * evaluation value, the diagonal of the 240x240x155 mm BraTS grid (sqrt(240^2 + 240^2 + 155^2)).
 * The BraTS dataset passes it to the `hd95` metric (`metricOptions`).
 */
export const BRATS_HD95_ONE_EMPTY = 373.12866;

/**
 * Label map [D,H,W] -> binary region targets [D,H,W,3] (channels-last WT, TC, ET; 0/1).
 * @param shape only checked against the label's length
 */
export function labelsToRegions(label: Uint8Array, shape?: Shape3): Uint8Array {
  if (shape && shape[0] * shape[1] * shape[2] !== label.length) {
    throw new RangeError(`labelsToRegions: label has ${label.length} voxels, shape ${shape.join('x')} needs ${shape[0] * shape[1] * shape[2]}`);
  }
  // One lookup table per label value keeps the loop branch-free.
  const lut = new Uint8Array(256 * 3);
  BRATS_REGIONS.forEach((region, c) => region.labels.forEach((l) => (lut[l * 3 + c] = 1)));
  const out = new Uint8Array(label.length * 3);
  for (let i = 0, o = 0; i < label.length; i++, o += 3) {
    const base = label[i]! * 3;
    out[o] = lut[base]!;
    out[o + 1] = lut[base + 1]!;
    out[o + 2] = lut[base + 2]!;
  }
  return out;
}

/**
 * Region probabilities [D,H,W,3] (WT, TC, ET) -> BraTS labels [D,H,W], as the winners do at
 * inference: WT > threshold -> 2, then TC > threshold -> 1, then ET > threshold -> 4, each
 * overwriting the previous. A probability equal to the threshold does not count.
 * @param threshold default 0.5
 */
export function regionsToLabels(probabilities: ArrayLike<number>, shape?: Shape3, threshold = 0.5): Uint8Array {
  if (probabilities.length % 3 !== 0) throw new RangeError(`regionsToLabels: expected 3 channels, got ${probabilities.length} values`);
  const n = probabilities.length / 3;
  if (shape && shape[0] * shape[1] * shape[2] !== n) {
    throw new RangeError(`regionsToLabels: ${n} voxels, shape ${shape.join('x')} needs ${shape[0] * shape[1] * shape[2]}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    let l = 0;
    if (probabilities[p]! > threshold) l = 2;
    if (probabilities[p + 1]! > threshold) l = 1;
    if (probabilities[p + 2]! > threshold) l = 4;
    out[i] = l;
  }
  return out;
}

/** Options of {@link postprocessEnhancing}. */
export interface EnhancingPostprocessOptions {
  /** ET smaller than this many voxels is relabelled as necrosis (default 200, the winners' value). */
  minVoxels?: number;
}

/**
 * The BraTS ET post-processing: when a predicted label map has fewer than `minVoxels`
 * enhancing voxels (4), they all become necrosis (1): a small false-positive ET in a case
 * without ET costs a Dice of 0, a missed tiny ET costs little. In place; returns what it did.
 */
export function postprocessEnhancing(label: Uint8Array, options: EnhancingPostprocessOptions = {}): { etVoxels: number; replaced: boolean } {
  const minVoxels = options.minVoxels ?? 200;
  let et = 0;
  for (let i = 0; i < label.length; i++) if (label[i] === 4) et++;
  const replaced = et > 0 && et < minVoxels;
  if (replaced) for (let i = 0; i < label.length; i++) if (label[i] === 4) label[i] = 1;
  return { etVoxels: et, replaced };
}

/** The BraTS {@link TargetEncoding}: labels 0/1/2/4 <-> channels WT, TC, ET. */
export function bratsTargetEncoding(): TargetEncoding {
  return {
    channels: [...BRATS_REGION_NAMES],
    encode: (label, shape) => labelsToRegions(label, shape),
    decode: (probabilities, shape, threshold) => regionsToLabels(probabilities, shape, threshold ?? 0.5),
  };
}
