import { type AugmenterFactory, chance, defineAugmenter, type Rng, type SamplingGrid } from '@voxseg/core';
import { applyLinearToGrid } from '../sampling/sampling-grid.js';
import type { Range } from './draw.js';

/** Options of {@link RandRotate}. */
export interface RandRotateOptions {
  /**
   * Probability that a sample is rotated. Default 0.3 (docs/method.md DA4; nnU-Net
   * `nnUNetTrainerV2BraTSRegions_DA4_BN.setup_DA_params`: `p_rot = 0.3`).
   */
  p?: number;
  /**
   * Angle range in degrees, the same for each of the three axes. Default [-90, 90]
   * (docs/method.md; the DA4 trainer sets `rotation_x/y/z = (-90, 90)` degrees).
   */
  angleRange?: Range;
  /**
   * Probability that each axis gets its own random angle when the sample is rotated
   * (otherwise 0 about that axis). Default 1 (batchgenerators `augment_spatial_2`
   * `p_rot_per_axis` default; DA4 does not change it).
   */
  pPerAxis?: number;
}

/** Defaults of {@link RandRotate}; sources in {@link RandRotateOptions}. */
export const RAND_ROTATE_DEFAULTS: Required<RandRotateOptions> = { p: 0.3, angleRange: [-90, 90], pPerAxis: 1 };

/**
 * Random 3-D rotation of the patch's sampling grid about its centre: one angle per axis
 * (D, H, W), composed as R = R_D · R_H · R_W (batchgenerators' `rotate_coords_3d` order),
 * applied to the grid offsets. Image and label are then read through the same grid.
 */
export class RandRotate extends defineAugmenter<RandRotateOptions>({
  name: 'RandRotate',
  kind: 'spatial',
  description: 'Random rotation of the patch grid, one angle per axis (DA4: +-90 deg, p 0.3)',
  defaults: RAND_ROTATE_DEFAULTS,
  validate: (o, check) => ({ p: check.probability('p', o.p), angleRange: check.range('angleRange', o.angleRange), pPerAxis: check.probability('pPerAxis', o.pPerAxis) }),
}) {
  /** Transform the patch's sampling grid in place, with probability `p`. */
  transformGrid(grid: SamplingGrid, rng: Rng): void {
    const { p, angleRange, pPerAxis } = this.options;
    if (!chance(rng, p)) return;
    const rad = Math.PI / 180;
    const angles = [0, 1, 2].map(() => (rng.next() <= pPerAxis ? rng.uniform(angleRange[0], angleRange[1]) * rad : 0));
    applyLinearToGrid(grid, rotationMatrix(angles[0]!, angles[1]!, angles[2]!));
  }
}

/**
 * Row-major 3x3 rotation R_D(a) · R_H(b) · R_W(c), where R_D rotates in the (H, W) plane,
 * R_H in the (D, W) plane and R_W in the (D, H) plane.
 */
export function rotationMatrix(a: number, b: number, c: number): number[] {
  const rd = [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
  const rh = [Math.cos(b), 0, Math.sin(b), 0, 1, 0, -Math.sin(b), 0, Math.cos(b)];
  const rw = [Math.cos(c), -Math.sin(c), 0, Math.sin(c), Math.cos(c), 0, 0, 0, 1];
  return matmul3(matmul3(rd, rh), rw);
}

function matmul3(x: number[], y: number[]): number[] {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += x[i * 3 + k]! * y[k * 3 + j]!;
  return r;
}

/** Registry entry for {@link RandRotate}. */
export const randRotateFactory: AugmenterFactory<RandRotateOptions> = RandRotate.factory();
