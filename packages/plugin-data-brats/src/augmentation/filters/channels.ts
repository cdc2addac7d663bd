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

/** Mean and population standard deviation (numpy `std`, ddof 0) of channel `c`, in float64. */
export function channelStats(image: Float32Array, channels: number, c: number): { mean: number; std: number; min: number; max: number } {
  const n = image.length / channels;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let j = c; j < image.length; j += channels) {
    const v = image[j]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let j = c; j < image.length; j += channels) {
    const dv = image[j]! - mean;
    ss += dv * dv;
  }
  return { mean, std: Math.sqrt(ss / n), min, max };
}
