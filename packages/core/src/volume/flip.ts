import type { Shape3 } from './types.js';
import { type VoxelArray, allocLike, assertVolume } from './voxel-array.js';

/** Which spatial axes to mirror: indices into [D, H, W] (0 = D/z, 1 = H/y, 2 = W/x). */
export type FlipAxes = readonly (0 | 1 | 2)[];

/**
 * Mirror a channels-last volume along the given spatial axes (the channel order is kept).
 * Flipping twice along the same axes gives the input back.
 *
 * @returns a new array of the same type and shape
 */
export function flipAxes<T extends VoxelArray>(data: T, shape: Shape3, axes: FlipAxes, channels = 1): T {
  return flipAxesInto(data, shape, axes, channels, allocLike(data, data.length));
}

/**
 * {@link flipAxes} writing into a preallocated `out` (same length, not `data` itself), so hot
 * loops such as test-time mirroring reuse one buffer.
 *
 * @returns `out`
 */
export function flipAxesInto<T extends VoxelArray>(data: VoxelArray, shape: Shape3, axes: FlipAxes, channels: number, out: T): T {
  assertVolume('flipAxes(data)', data, shape, channels);
  if (out.length !== data.length || out.buffer === data.buffer && out.byteOffset < data.byteOffset + data.byteLength && data.byteOffset < out.byteOffset + out.byteLength) {
    throw new RangeError('flipAxesInto(out): must have the length of data and not overlap it');
  }
  for (const a of axes) {
    if (a !== 0 && a !== 1 && a !== 2) throw new RangeError(`flipAxes(axes): axis must be 0, 1 or 2, got ${String(a)}`);
  }
  const [D, H, W] = shape;
  const fz = axes.includes(0), fy = axes.includes(1), fx = axes.includes(2);
  const rowLen = W * channels;
  for (let z = 0; z < D; z++) {
    const sz = fz ? D - 1 - z : z;
    for (let y = 0; y < H; y++) {
      const sy = fy ? H - 1 - y : y;
      const dst = (z * H + y) * rowLen;
      const src = (sz * H + sy) * rowLen;
      if (!fx) {
        // Rows are contiguous: one block copy per row.
        out.set(data.subarray(src, src + rowLen) as ArrayLike<number>, dst);
        continue;
      }
      for (let x = 0; x < W; x++) {
        const d = dst + x * channels;
        const s = src + (W - 1 - x) * channels;
        for (let c = 0; c < channels; c++) out[d + c] = data[s + c]!;
      }
    }
  }
  return out;
}
