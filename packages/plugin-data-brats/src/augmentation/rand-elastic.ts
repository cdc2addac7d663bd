import { type AugmenterFactory, chance, defineAugmenter, type Rng, type SamplingGrid, type Shape3 } from '@voxseg/core';
import type { Range } from './draw.js';
import { recursiveGaussian3d } from './filters/recursive-gaussian.js';
import { upsampleLinear } from './filters/resize.js';

/** Options of {@link RandElastic}. */
export interface RandElasticOptions {
  /**
   * Probability that a sample is deformed. Default 0.3 (docs/method.md, and nnU-Net's
   * `nnUNetTrainerV2_DA3.setup_DA_params`: `p_eldef = 0.3`; note the BraTS trainer
   * `nnUNetTrainerV2BraTSRegions_DA4_BN` in nnU-Net v1 sets `p_eldef = 0.2`; docs/method.md wins).
   */
  p?: number;
  /**
   * Range of the deformation scale, as a fraction of the patch size. Default [0, 0.25]
   * (DA3/DA4 `eldef_deformation_scale = (0, 0.25)`, used by batchgenerators'
   * `SpatialTransform_2` / `augment_spatial_2`). One scale `s` is drawn per sample; along
   * axis a the smoothing sigma is `s * patch[a]` and the displacement magnitude is drawn from
   * `[sigma/8, sigma/2]` voxels.
   */
  deformationScale?: Range;
}

/** Defaults of {@link RandElastic}; sources in {@link RandElasticOptions}. */
export const RAND_ELASTIC_DEFAULTS: Required<RandElasticOptions> = { p: 0.3, deformationScale: [0, 0.25] };

/**
 * Elastic deformation of the patch's sampling grid, as batchgenerators'
 * `elastic_deform_coordinates_2` (the DA4 spatial transform): for each axis, uniform noise in
 * [-1, 1] on the patch grid, smoothed with a Gaussian of sigma `s * patch` (per axis), then
 * scaled so that its largest absolute value equals the drawn magnitude, and added to that
 * axis's coordinates. The displacement's mean is removed so the patch stays centred (as
 * `augment_spatial_2` re-centres its coordinates).
 *
 * Differences from batchgenerators, on purpose: the smoothing is a recursive Gaussian with
 * edge-replicated borders instead of a periodic Fourier-domain Gaussian (a few percent of the
 * peak from the exact kernel, no wrap-around, O(1) per voxel at any sigma), computed on a
 * coarser grid for large sigma and upsampled linearly; and, in the DA4 preset, the displacement
 * is added after rotation and scaling (nnU-Net deforms first, then rotates and scales the
 * displaced coordinates; both give smooth random fields of the same magnitudes).
 */
export class RandElastic extends defineAugmenter<RandElasticOptions>({
  name: 'RandElastic',
  kind: 'spatial',
  description: 'Elastic deformation of the patch grid by smoothed random displacements (DA4: scale 0-0.25 of the patch, p 0.3)',
  defaults: RAND_ELASTIC_DEFAULTS,
  validate: (o, check) => {
    const deformationScale = check.range('deformationScale', o.deformationScale, 'non-negative');
    return { p: check.probability('p', o.p), deformationScale };
  },
}) {
  /** Transform the patch's sampling grid in place, with probability `p`. */
  transformGrid(grid: SamplingGrid, rng: Rng): void {
    const { p, deformationScale } = this.options;
    if (!chance(rng, p)) return;
    const s = rng.uniform(deformationScale[0], deformationScale[1]);
    const shape = grid.shape;
    const sigmas: Shape3 = [s * shape[0], s * shape[1], s * shape[2]];
    const magnitudes = sigmas.map((sg) => rng.uniform(sg / 8, sg / 2));
    // The field is smooth on the scale of sigma, so it is drawn and smoothed on a grid `f`
    // times coarser (f a power of two <= sigma / 3, at most 8) and upsampled linearly: the
    // same kind of field (white noise smoothed to sigma, in voxels of the patch) for ~f^3 less
    // work; the linear interpolation error is about f^2 / (8 sigma^2) < 1.5% of the magnitude.
    const minSigma = Math.min(...sigmas);
    let f = 1;
    while (f < 8 && 2 * f <= minSigma / 3) f *= 2;
    const coarse: Shape3 = [0, 1, 2].map((a) => Math.floor((shape[a]! - 1) / f) + 2) as Shape3;
    if (f === 1) coarse.splice(0, 3, shape[0], shape[1], shape[2]);
    const coarseSigmas = sigmas.map((sg) => sg / f) as Shape3;
    const nc = coarse[0] * coarse[1] * coarse[2];
    const n = grid.d.length;
    const targets = [grid.d, grid.h, grid.w];
    for (let a = 0; a < 3; a++) {
      const noise = new Float32Array(nc);
      for (let i = 0; i < nc; i++) noise[i] = rng.next() * 2 - 1;
      recursiveGaussian3d(noise, coarse, coarseSigmas);
      const field = f === 1 ? noise : upsampleLinear(noise, coarse, shape, f);
      let mx = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = field[i]!;
        sum += v;
        const av = v < 0 ? -v : v;
        if (av > mx) mx = av;
      }
      if (!(mx > 0)) continue;
      const k = magnitudes[a]! / mx;
      const mean = sum / n;
      const t = targets[a]!;
      for (let i = 0; i < n; i++) t[i]! += (field[i]! - mean) * k;
    }
  }
}

/** Registry entry for {@link RandElastic}. */
export const randElasticFactory: AugmenterFactory<RandElasticOptions> = RandElastic.factory();
