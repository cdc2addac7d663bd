import type { Rng } from '../random/rng.js';
import type { Shape3 } from '../volume/types.js';
import type { Factory } from './factory.js';

/**
 * A training sample as augmenters see it: one patch, channels-last.
 * Augmenters mutate it in place (or replace its arrays).
 */
export interface Sample {
  /** Image patch [D, H, W, C] float32. */
  image: Float32Array;
  /** Spatial shape of the patch [D, H, W]. */
  shape: Shape3;
  /** Number of image channels C. */
  channels: number;
  /** Label patch [D, H, W] (class values), when the case is labelled. */
  label?: Uint8Array;
}

/**
 * The sampling grid of a patch before it is read from the volume: for every output voxel
 * (row-major [D, H, W]), its source coordinate relative to the patch centre, in voxels, as
 * three planes `d`, `h`, `w`. Spatial augmenters that act as coordinate maps (rotation,
 * scaling, elastic deformation) modify this grid; the sampler then reads the image with
 * trilinear and the label with nearest-neighbour interpolation at `centre + grid`, so image
 * and label get exactly the same transform, computed once for the patch (not the volume).
 */
export interface SamplingGrid {
  shape: Shape3;
  d: Float32Array;
  h: Float32Array;
  w: Float32Array;
}

/**
 * One augmentation transform.
 *
 * - `kind: 'spatial'` transforms move voxels. They either implement `transformGrid` (applied
 *   before the patch is read) or `apply` (applied to the read patch), and must transform
 *   `label` exactly as `image`.
 * - `kind: 'intensity'` transforms change image values only and must never touch `label`.
 *
 * Randomness: draw every random number from the `rng` passed in, once per sample, so image
 * and label stay aligned and the same seed reproduces the same augmentation.
 * Probabilities (`p`) are the augmenter's own options.
 */
export interface Augmenter {
  readonly name: string;
  readonly kind: 'spatial' | 'intensity';
  /** Grid-based spatial transforms: modify the patch's sampling grid in place. */
  transformGrid?(grid: SamplingGrid, rng: Rng): void;
  /** Transforms applied to the extracted patch, in place. */
  apply?(sample: Sample, rng: Rng): void;
}

/** Registry entry for augmenters. */
export type AugmenterFactory<O = Record<string, unknown>> = Factory<Augmenter, O>;
