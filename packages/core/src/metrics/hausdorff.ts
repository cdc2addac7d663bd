import { boundingBoxNonZero, unionBox } from '../volume/bounding-box.js';
import { cropToBox } from '../volume/crop.js';
import type { Shape3 } from '../volume/types.js';
import { type VoxelArray, boxShape } from '../volume/voxel-array.js';
import { squaredDistanceTransform } from './distance-transform.js';
import { assertMask } from './overlap.js';
import { percentile } from './percentile.js';
import { surfaceMask } from './surface.js';

/**
 * The default HD95 when exactly one of prediction and reference is empty: the diagonal of the
 * image grid in mm, the largest distance two voxels of it can have. (A dataset may fix its own
 * value: the BraTS plugin uses nnU-Net's BraTS constant, the diagonal of the 240x240x155 grid.)
 */
export function gridDiagonal(shape: Shape3, spacing: Shape3 = [1, 1, 1]): number {
  return Math.hypot(shape[0] * spacing[0], shape[1] * spacing[1], shape[2] * spacing[2]);
}

/**
 * Distances in mm from every surface voxel of `from` to the nearest surface voxel of `to`
 * (medpy's `__surface_distances`; surfaces as in {@link surfaceMask}). Both masks must be
 * non-empty.
 *
 * Computed with an exact Euclidean distance transform of `to`'s surface, restricted to the
 * bounding box of both masks: every query and every target voxel lies inside that box, so
 * the restriction changes no distance and makes the cost proportional to the tumour's box,
 * not the whole grid.
 */
export function surfaceDistances(from: VoxelArray, to: VoxelArray, shape: Shape3, spacing: Shape3 = [1, 1, 1]): Float64Array {
  assertMask('surfaceDistances(from)', from, shape);
  assertMask('surfaceDistances(to)', to, shape);
  assertSpacing('surfaceDistances(spacing)', spacing);
  const { a, b, boxShape: s } = cropPair(from, to, shape);
  return directedDistances(surfaceMask(a, s), surfaceMask(b, s), s, spacing);
}

/**
 * The 95th percentile Hausdorff distance in mm, medpy's `hd95` with nnU-Net's BraTS
 * conventions: 0 when both masks are empty, `options.oneEmpty` when only one is (default
 * {@link gridDiagonal});
 * otherwise the distances from every surface voxel of the prediction to the nearest surface
 * voxel of the reference and the other way round are pooled, and their 95th percentile is
 * taken with numpy's linear interpolation.
 *
 * @param prediction non-zero = foreground, [D, H, W]
 * @param reference non-zero = foreground, [D, H, W]
 * @param shape [D, H, W]
 * @param spacing voxel size in mm along [D, H, W] (NIfTI pixdim [3], [2], [1])
 * @param options.oneEmpty the value when exactly one mask is empty (default: {@link gridDiagonal})
 */
export function hd95(prediction: VoxelArray, reference: VoxelArray, shape: Shape3, spacing: Shape3 = [1, 1, 1], options: { oneEmpty?: number } = {}): number {
  assertMask('hd95(prediction)', prediction, shape);
  assertMask('hd95(reference)', reference, shape);
  assertSpacing('hd95(spacing)', spacing);
  const boxP = boundingBoxNonZero(prediction, shape);
  const boxR = boundingBoxNonZero(reference, shape);
  if (!boxP && !boxR) return 0;
  if (!boxP || !boxR) return options.oneEmpty ?? gridDiagonal(shape, spacing);
  const { a, b, boxShape: s } = cropPair(prediction, reference, shape);
  const surfaceP = surfaceMask(a, s);
  const surfaceR = surfaceMask(b, s);
  const pToR = directedDistances(surfaceP, surfaceR, s, spacing);
  const rToP = directedDistances(surfaceR, surfaceP, s, spacing);
  const pooled = new Float64Array(pToR.length + rToP.length);
  pooled.set(pToR, 0);
  pooled.set(rToP, pToR.length);
  return percentile(pooled, 95);
}

function assertSpacing(what: string, spacing: Shape3): void {
  if (spacing.length !== 3 || spacing.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw new RangeError(`${what}: need three positive voxel sizes in mm [D,H,W], got [${spacing.join(',')}]`);
  }
}

/** Both masks cropped to the bounding box of their union (both must be non-empty). */
function cropPair(a: VoxelArray, b: VoxelArray, shape: Shape3): { a: VoxelArray; b: VoxelArray; boxShape: Shape3 } {
  const boxA = boundingBoxNonZero(a, shape);
  const boxB = boundingBoxNonZero(b, shape);
  if (!boxA || !boxB) throw new RangeError('surfaceDistances: both masks must be non-empty (a surface distance to nothing is undefined)');
  const box = unionBox(boxA, boxB)!;
  return { a: cropToBox(a, shape, box), b: cropToBox(b, shape, box), boxShape: boxShape(box) };
}

/** Distance from each `from` surface voxel to the nearest `to` surface voxel, in mm. */
function directedDistances(fromSurface: Uint8Array, toSurface: Uint8Array, shape: Shape3, spacing: Shape3): Float64Array {
  const squared = squaredDistanceTransform(toSurface, shape, spacing);
  let count = 0;
  for (let i = 0; i < fromSurface.length; i++) count += fromSurface[i]!;
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < fromSurface.length; i++) {
    if (fromSurface[i] !== 0) out[k++] = Math.sqrt(squared[i]!);
  }
  return out;
}
