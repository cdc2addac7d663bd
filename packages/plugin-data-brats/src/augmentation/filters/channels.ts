/**
 * Helpers to work on one channel of a channels-last [D, H, W, C] image: filters run on a
 * contiguous single-channel copy (cache-friendly, no strided inner loops).
 */

/** Copy channel `c` of an interleaved [.., C] image into `out` (length = voxels). */
export function readChannel(image: Float32Array, channels: number, c: number, out: Float32Array): Float32Array {
  for (let i = 0, j = c; i < out.length; i++, j += channels) out[i] = image[j]!;
  return out;
}

/** Write a contiguous single-channel buffer back into channel `c` of an interleaved image. */
export function writeChannel(image: Float32Array, channels: number, c: number, values: Float32Array): void {
  for (let i = 0, j = c; i < values.length; i++, j += channels) image[j] = values[i]!;
}
