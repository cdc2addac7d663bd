import type { Shape3 } from './types.js';
import { roundHalfEven } from './round-half-even.js';
import { type VoxelArray, allocLike, assertVolume, voxelCount } from './voxel-array.js';

/** Source index along one axis for each output index: the centre convention (see below). */
function nearestIndexTable(inSize: number, outSize: number): Int32Array {
  const table = new Int32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    table[o] = Math.min(inSize - 1, Math.floor((o + 0.5) * scale));
  }
  return table;
}

/**
 * Nearest-neighbour resampling of a channels-last volume to `outShape`.
 *
 * Each output voxel takes the input voxel that contains its centre:
 * `src = floor((dst + 0.5) * in / out)` per axis, the convention of PyTorch's
 * `interpolate(mode='nearest-exact')`, which nnU-Net v2 uses to downsample segmentation
 * targets for deep supervision. Downsampling by 2 therefore picks the odd voxels
 * (1, 3, 5, ...). Labels are copied, never blended.
 */
export function resampleNearest<T extends VoxelArray>(data: T, shape: Shape3, outShape: Shape3, channels = 1): T {
  assertVolume('resampleNearest(data)', data, shape, channels);
  if (outShape.some((s, a) => !Number.isInteger(s) || s < 1 || shape[a]! < 1)) {
    throw new RangeError(`resampleNearest(outShape): need positive integers, got [${outShape.join(',')}] from [${shape.join(',')}]`);
  }
  const tz = nearestIndexTable(shape[0], outShape[0]);
  const ty = nearestIndexTable(shape[1], outShape[1]);
  const tx = nearestIndexTable(shape[2], outShape[2]);
  const out = allocLike(data, voxelCount(outShape) * channels);
  const [, H, W] = shape;
  let o = 0;
  for (let z = 0; z < outShape[0]; z++) {
    const sz = tz[z]!;
    for (let y = 0; y < outShape[1]; y++) {
      const rowBase = (sz * H + ty[y]!) * W;
      for (let x = 0; x < outShape[2]; x++) {
        const s = (rowBase + tx[x]!) * channels;
        for (let c = 0; c < channels; c++) out[o++] = data[s + c]!;
      }
    }
  }
  return out;
}

/** A resampled volume and its shape. */
export interface Resampled<T extends VoxelArray> {
  /** The values, same type and channel count as the input. */
  data: T;
  /** The new spatial shape `[D, H, W]`. */
  shape: Shape3;
}

/**
 * Nearest-neighbour downsampling by a scale factor per axis (e.g. 0.5 halves each axis).
 * The output shape is `round(shape * scale)` with Python's rounding (ties to even), as
 * nnU-Net computes deep-supervision target shapes, and at least 1.
 *
 * @returns the resampled data and its shape
 */
export function downsampleNearest<T extends VoxelArray>(
  data: T,
  shape: Shape3,
  scale: number | Shape3,
  channels = 1,
): Resampled<T> {
  const s: Shape3 = typeof scale === 'number' ? [scale, scale, scale] : scale;
  if (s.some((v) => !(v > 0 && v <= 1))) {
    throw new RangeError(`downsampleNearest(scale): each factor must be in (0, 1], got [${s.join(',')}]`);
  }
  const outShape = shape.map((n, a) => Math.max(1, roundHalfEven(n * s[a]!))) as Shape3;
  return { data: resampleNearest(data, shape, outShape, channels), shape: outShape };
}
