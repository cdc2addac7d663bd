import type { Shape3, TargetEncoding } from '@voxseg/core';
import { foregroundEntries, type NnunetDatasetJson } from '../format/dataset-json.js';

/** What {@link nnunetTargetEncoding} needs from a dataset.json. */
export type NnunetLabelSpec = Pick<NnunetDatasetJson, 'labels' | 'hasRegions' | 'regionsClassOrder'>;

/**
 * The {@link TargetEncoding} of an nnU-Net dataset. voxseg's networks are multi-channel
 * sigmoid networks (one binary channel per target, losses own the sigmoid), so:
 *
 * - **Region-based labels** (some `labels` entry lists several values, as in
 *   Dataset137_BraTS2021): one channel per foreground region, in `labels` order, named by
 *   its key. A voxel is in region k when its label is one of the region's values (nnU-Net's
 *   region conversion). Decoding is nnU-Net's `LabelManager.convert_probabilities_to_segmentation`:
 *   start from 0, then for each region k in order write `regions_class_order[k]` where its
 *   probability is above the threshold; later regions overwrite earlier ones.
 * - **Plain labels**: one channel per foreground label, in increasing label value, named by
 *   its key (a one-hot encoding without the background channel). nnU-Net would use a softmax
 *   over all labels and an argmax; the sigmoid counterpart used here: a voxel gets the label
 *   of its most probable channel when that probability is above the threshold, else 0
 *   (ties go to the lower label).
 */
export function nnunetTargetEncoding(spec: NnunetLabelSpec): TargetEncoding {
  const fg = foregroundEntries(spec.labels);
  if (spec.hasRegions) {
    const order = spec.regionsClassOrder;
    if (!order || order.length !== fg.length) {
      throw new RangeError(`nnunetTargetEncoding: regions_class_order must have one label per region (${fg.length}), got ${JSON.stringify(order)}`);
    }
    return lutEncoding(fg.map(([n]) => n), fg.map(([, v]) => v), (probabilities, n, K, threshold) => {
      const out = new Uint8Array(n);
      for (let i = 0, p = 0; i < n; i++, p += K) {
        let l = 0;
        for (let k = 0; k < K; k++) if (probabilities[p + k]! > threshold) l = order[k]!;
        out[i] = l;
      }
      return out;
    });
  }
  const sorted = fg.map(([n, v]): [string, number] => [n, v[0]!]).sort((a, b) => a[1] - b[1]);
  const values = sorted.map(([, v]) => v);
  return lutEncoding(sorted.map(([n]) => n), values.map((v) => [v]), (probabilities, n, K, threshold) => {
    const out = new Uint8Array(n);
    for (let i = 0, p = 0; i < n; i++, p += K) {
      let best = -1;
      let bestP = threshold;
      for (let k = 0; k < K; k++) {
        const q = probabilities[p + k]!;
        if (q > bestP) {
          bestP = q;
          best = k;
        }
      }
      out[i] = best < 0 ? 0 : values[best]!;
    }
    return out;
  });
}

/** Encoding through a label -> channels lookup table; decoding by the given rule. */
function lutEncoding(
  channels: string[],
  members: number[][],
  decode: (probabilities: Float32Array, n: number, K: number, threshold: number) => Uint8Array,
): TargetEncoding {
  const K = channels.length;
  const lut = new Uint8Array(256 * K);
  members.forEach((labels, k) => labels.forEach((l) => (lut[l * K + k] = 1)));
  const check = (what: string, length: number, shape: Shape3 | undefined, perVoxel: number) => {
    if (length % perVoxel !== 0) throw new RangeError(`${what}: ${length} values is not a multiple of ${perVoxel} channels`);
    const n = length / perVoxel;
    if (shape && shape[0] * shape[1] * shape[2] !== n) throw new RangeError(`${what}: ${n} voxels, shape ${shape.join('x')} needs ${shape[0] * shape[1] * shape[2]}`);
    return n;
  };
  return {
    channels: [...channels],
    encode(label, shape) {
      const n = check('nnU-Net targets encode', label.length, shape, 1);
      const out = new Uint8Array(n * K);
      for (let i = 0, o = 0; i < n; i++, o += K) {
        const base = label[i]! * K;
        for (let k = 0; k < K; k++) out[o + k] = lut[base + k]!;
      }
      return out;
    },
    decode(probabilities, shape, threshold = 0.5) {
      const n = check('nnU-Net targets decode', probabilities.length, shape, K);
      return decode(probabilities, n, K, threshold);
    },
  };
}
