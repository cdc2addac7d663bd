import type { Shape3 } from './types.js';
import { type VoxelArray, allocLike, assertVolume, voxelCount } from './voxel-array.js';

/**
 * One channel of a channels-last volume [D, H, W, channels] as a [D, H, W] array of the
 * same type.
 */
export function extractChannel<T extends VoxelArray>(data: T, shape: Shape3, channels: number, channel: number): T {
  assertVolume('extractChannel(data)', data, shape, channels);
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels) {
    throw new RangeError(`extractChannel(channel): must be an integer in [0, ${channels - 1}], got ${channel}`);
  }
  const n = voxelCount(shape);
  const out = allocLike(data, n);
  for (let i = 0, j = channel; i < n; i++, j += channels) out[i] = data[j]!;
  return out;
}

/** Every channel of a channels-last volume as separate [D, H, W] arrays. */
export function splitChannels<T extends VoxelArray>(data: T, shape: Shape3, channels: number): T[] {
  assertVolume('splitChannels(data)', data, shape, channels);
  const n = voxelCount(shape);
  const outs: T[] = [];
  for (let c = 0; c < channels; c++) outs.push(allocLike(data, n));
  // One pass over the interleaved input (cache-friendly for large volumes).
  for (let i = 0, j = 0; i < n; i++) {
    for (let c = 0; c < channels; c++, j++) outs[c]![i] = data[j]!;
  }
  return outs;
}

/**
 * Interleave single-channel [D, H, W] arrays into one channels-last volume
 * [D, H, W, list.length] (e.g. t1, t1ce, t2, flair -> the network input). The result has
 * the type of the first array.
 */
export function stackChannels<T extends VoxelArray>(list: readonly T[], shape: Shape3): T {
  if (list.length === 0) throw new RangeError('stackChannels(list): need at least one channel');
  list.forEach((d, c) => assertVolume(`stackChannels(list[${c}])`, d, shape, 1));
  const n = voxelCount(shape);
  const channels = list.length;
  const out = allocLike(list[0]!, n * channels);
  for (let c = 0; c < channels; c++) {
    const src = list[c]!;
    for (let i = 0, j = c; i < n; i++, j += channels) out[j] = src[i]!;
  }
  return out;
}
