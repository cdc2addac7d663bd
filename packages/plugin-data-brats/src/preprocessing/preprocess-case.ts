import type { Box3, Shape3, Shape4 } from '@voxseg/core';
import { boxShape, cropToBox } from '@voxseg/core';
import { croppedBrainMask } from './nonzero-mask.js';
import { type ChannelStats, zscoreInMask } from './zscore.js';

/** Input of {@link preprocessCase}: co-registered channels of one case on the same grid. */
export interface RawCase {
  /** One [D,H,W] array per modality (x fastest), all of `shape`. */
  channels: readonly ArrayLike<number>[];
  /** Label map [D,H,W], when labelled. */
  label?: Uint8Array;
  shape: Shape3;
}

/** Output of {@link preprocessCase}. */
export interface PreprocessedCase {
  /** Normalised channels, channels-last [d,h,w,C] inside the crop box. */
  image: Float32Array;
  shape: Shape4;
  /** The label map cropped alike, when labelled. */
  label?: Uint8Array;
  /** Where the crop sits in the original grid. */
  cropBox: Box3;
  originalShape: Shape3;
  /** Per-channel statistics used for the z-score. */
  stats: ChannelStats[];
}

/**
 * nnU-Net's preprocessing for BraTS (no resampling: the data are 1 mm isotropic):
 * 1. brain mask = any channel non-zero, holes filled; crop every channel and the label to its
 *    bounding box (the whole volume if the mask is empty);
 * 2. z-score each channel with the mean/std inside the mask (nnU-Net's mask is `seg >= 0`
 *    after cropping, i.e. the brain mask plus any labelled voxel), 0 outside.
 */
export function preprocessCase(raw: RawCase): PreprocessedCase {
  const { shape, channels, label } = raw;
  const C = channels.length;
  if (C === 0) throw new RangeError('preprocessCase: no channels');
  const { box: cropBox, mask } = croppedBrainMask(channels, shape);
  const [d, h, w] = boxShape(cropBox);
  const croppedLabel = label ? cropToBox(label, shape, cropBox) : undefined;
  if (croppedLabel) for (let i = 0; i < mask.length; i++) if (croppedLabel[i]) mask[i] = 1;
  const n = d * h * w;
  const image = new Float32Array(n * C);
  const stats: ChannelStats[] = [];
  for (let c = 0; c < C; c++) {
    const src = channels[c]!;
    const f32 = src instanceof Float32Array ? src : Float32Array.from(src);
    const normalised = zscoreInMask(cropToBox(f32, shape, cropBox), mask);
    stats.push(normalised.stats);
    const data = normalised.data;
    for (let i = 0, o = c; i < n; i++, o += C) image[o] = data[i]!;
  }
  return { image, shape: [d, h, w, C], label: croppedLabel, cropBox, originalShape: [...shape], stats };
}
