import type { Box3, Shape3 } from './types.js';
import { type VoxelArray, allocLike, assertBoxInside, assertVolume, boxShape, voxelCount } from './voxel-array.js';

/**
 * Copy the voxels inside `box` out of a channels-last volume.
 *
 * @param data the volume, [D, H, W, channels], channel fastest
 * @param shape its spatial shape [D, H, W]
 * @param box the region to keep (start inclusive, end exclusive)
 * @param channels values per voxel (default 1)
 * @returns a new array of the same type, shape `boxShape(box)` x channels
 */
export function cropToBox<T extends VoxelArray>(data: T, shape: Shape3, box: Box3, channels = 1): T {
  assertVolume('cropToBox(data)', data, shape, channels);
  assertBoxInside('cropToBox(box)', box, shape);
  const out = boxShape(box);
  const result = allocLike(data, voxelCount(out) * channels);
  // Whole W-rows are contiguous in both arrays: copy them with one set() each.
  const rowLen = out[2] * channels;
  if (rowLen === 0) return result;
  let o = 0;
  for (let z = box.start[0]; z < box.end[0]; z++) {
    for (let y = box.start[1]; y < box.end[1]; y++) {
      const i = ((z * shape[1] + y) * shape[2] + box.start[2]) * channels;
      result.set(data.subarray(i, i + rowLen) as ArrayLike<number>, o);
      o += rowLen;
    }
  }
  return result;
}

/**
 * The inverse of {@link cropToBox}: place a cropped volume back into a grid of `fullShape`,
 * filling everything outside `box` with `fill`. Used to write predictions made on the
 * brain bounding box back into the original 240x240x155 grid.
 *
 * @param data the cropped volume, shape `boxShape(box)` x channels
 * @param box where `data` sits in the full grid
 * @param fullShape the full grid [D, H, W]
 * @param channels values per voxel (default 1)
 * @param fill value outside the box (default 0)
 */
export function pasteIntoGrid<T extends VoxelArray>(
  data: T,
  box: Box3,
  fullShape: Shape3,
  channels = 1,
  fill = 0,
): T {
  assertBoxInside('pasteIntoGrid(box)', box, fullShape);
  const inner = boxShape(box);
  assertVolume('pasteIntoGrid(data)', data, inner, channels);
  const result = allocLike(data, voxelCount(fullShape) * channels);
  if (fill !== 0) result.fill(fill);
  const rowLen = inner[2] * channels;
  if (rowLen === 0) return result;
  let o = 0;
  for (let z = box.start[0]; z < box.end[0]; z++) {
    for (let y = box.start[1]; y < box.end[1]; y++) {
      const i = ((z * fullShape[1] + y) * fullShape[2] + box.start[2]) * channels;
      result.set(data.subarray(o, o + rowLen) as ArrayLike<number>, i);
      o += rowLen;
    }
  }
  return result;
}
