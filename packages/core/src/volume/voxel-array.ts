import type { Box3, Shape3 } from './types.js';

/**
 * Any typed array a voxel volume may be stored in. NIfTI images arrive as int16, uint8,
 * float32 or float64; labels as uint8; probabilities as float32. Utilities in this folder are
 * generic over the array type and return an array of the same type as their input.
 */
export type VoxelArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** A new zero-filled array of the same type as `like`, of length `length`. */
export function allocLike<T extends VoxelArray>(like: T, length: number): T {
  const Ctor = like.constructor as new (n: number) => T;
  return new Ctor(length);
}

/** Number of voxels in a [D, H, W] shape. */
export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** The [D, H, W] extent of a box. */
export function boxShape(box: Box3): Shape3 {
  return [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
}

/**
 * Throws one readable line when `data` does not hold `shape` x `channels` values.
 * @param what names the argument in the message (e.g. `cropToBox(data)`)
 */
export function assertVolume(what: string, data: ArrayLike<number>, shape: Shape3, channels = 1): void {
  if (shape.length !== 3 || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new RangeError(`${what}: shape must be three non-negative integers [D,H,W], got [${shape.join(',')}]`);
  }
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`${what}: channels must be a positive integer, got ${channels}`);
  }
  const expected = voxelCount(shape) * channels;
  if (data.length !== expected) {
    throw new RangeError(
      `${what}: data has ${data.length} values but shape [${shape.join(',')}] x ${channels} channel(s) needs ${expected}`,
    );
  }
}

/** Throws one readable line when `box` is empty-invalid or does not fit inside `shape`. */
export function assertBoxInside(what: string, box: Box3, shape: Shape3): void {
  for (let a = 0; a < 3; a++) {
    const s = box.start[a]!;
    const e = box.end[a]!;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > shape[a]! || s > e) {
      throw new RangeError(
        `${what}: box start [${box.start.join(',')}] end [${box.end.join(',')}] does not fit in shape [${shape.join(',')}]`,
      );
    }
  }
}
