import type { Box3, Shape3 } from './types.js';
import { type VoxelArray, assertVolume } from './voxel-array.js';

/**
 * The tightest box holding every voxel where any channel is non-zero (the union over
 * channels: nnU-Net crops all modalities to the union of their non-zero masks).
 *
 * @returns the box, or `null` when every value is zero
 */
export function boundingBoxNonZero(data: VoxelArray, shape: Shape3, channels = 1): Box3 | null {
  assertVolume('boundingBoxNonZero(data)', data, shape, channels);
  const [D, H, W] = shape;
  let z0 = D, z1 = -1, y0 = H, y1 = -1, x0 = W, x1 = -1;
  const rowLen = W * channels;
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      const base = (z * H + y) * rowLen;
      // Find the first and last non-zero value of the row; both scans stop early.
      let first = -1;
      for (let i = 0; i < rowLen; i++) {
        if (data[base + i] !== 0) { first = i; break; }
      }
      if (first < 0) continue;
      let last = first;
      for (let i = rowLen - 1; i > first; i--) {
        if (data[base + i] !== 0) { last = i; break; }
      }
      const xf = Math.floor(first / channels);
      const xl = Math.floor(last / channels);
      if (z < z0) z0 = z;
      if (z > z1) z1 = z;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (xf < x0) x0 = xf;
      if (xl > x1) x1 = xl;
    }
  }
  if (z1 < 0) return null;
  return { start: [z0, y0, x0], end: [z1 + 1, y1 + 1, x1 + 1] };
}

/** The smallest box holding both boxes (either may be null). */
export function unionBox(a: Box3 | null, b: Box3 | null): Box3 | null {
  if (!a) return b ? { start: [...b.start], end: [...b.end] } : null;
  if (!b) return { start: [...a.start], end: [...a.end] };
  return {
    start: [Math.min(a.start[0], b.start[0]), Math.min(a.start[1], b.start[1]), Math.min(a.start[2], b.start[2])],
    end: [Math.max(a.end[0], b.end[0]), Math.max(a.end[1], b.end[1]), Math.max(a.end[2], b.end[2])],
  };
}
