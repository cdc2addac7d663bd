import { cropToBox, pasteIntoGrid } from './crop.js';
import type { Box3, Shape3 } from './types.js';
import { type VoxelArray, assertVolume } from './voxel-array.js';

/** What {@link padToShape} returns. */
export interface Padded<T extends VoxelArray> {
  /** The padded volume (the input itself when no padding was needed). */
  data: T;
  /** Its spatial shape: `max(shape, minShape)` per axis. */
  shape: Shape3;
  /** Where the original volume sits inside the padded one: pass it to {@link unpad}. */
  box: Box3;
}

/**
 * Pad a volume so that every axis is at least `minShape`, centring the original: the
 * padding below is `floor(diff / 2)`, above `ceil(diff / 2)` (nnU-Net's `pad_nd_image`).
 * Axes already large enough are left alone; when none needs padding the input is returned
 * as is (no copy).
 *
 * @param fill the padding value (default 0: nnU-Net pads normalised images with 0)
 */
export function padToShape<T extends VoxelArray>(
  data: T,
  shape: Shape3,
  minShape: Shape3,
  channels = 1,
  fill = 0,
): Padded<T> {
  assertVolume('padToShape(data)', data, shape, channels);
  const padded: Shape3 = [
    Math.max(shape[0], minShape[0]),
    Math.max(shape[1], minShape[1]),
    Math.max(shape[2], minShape[2]),
  ];
  const start: Shape3 = [
    Math.floor((padded[0] - shape[0]) / 2),
    Math.floor((padded[1] - shape[1]) / 2),
    Math.floor((padded[2] - shape[2]) / 2),
  ];
  const box: Box3 = { start, end: [start[0] + shape[0], start[1] + shape[1], start[2] + shape[2]] };
  if (padded[0] === shape[0] && padded[1] === shape[1] && padded[2] === shape[2]) {
    return { data, shape: [...shape] as Shape3, box };
  }
  return { data: pasteIntoGrid(data, box, padded, channels, fill), shape: padded, box };
}

/**
 * Undo {@link padToShape}: crop the padded grid (or anything computed on it, e.g. a
 * probability map with a different channel count) back to the original box.
 */
export function unpad<T extends VoxelArray>(data: T, paddedShape: Shape3, box: Box3, channels = 1): T {
  return cropToBox(data, paddedShape, box, channels);
}
