import type { Augmenter, CaseData, Rng, Sample, SamplingGrid, Shape3 } from '@voxseg/core';
import { buildForegroundIndex, type ForegroundIndex } from './foreground-index.js';
import { copyBox, sampleNearest, sampleTrilinear } from './interpolate.js';
import { createIdentityGrid } from './sampling-grid.js';

/** Options of a {@link PatchSampler}. */
export interface PatchSamplerOptions {
  /** Patch spatial shape [D, H, W], e.g. [128, 128, 128]. */
  patchSize: Shape3;
  /**
   * Augmenters in pipeline order (e.g. {@link da4Pipeline}). Grid augmenters
   * (`transformGrid`) all act on the sampling grid before the patch is read; patch augmenters
   * (`apply`) then run on the read patch in list order. Default: none (validation patches).
   */
  augmenters?: readonly Augmenter[];
}

/** Where a patch is taken from. */
export interface PatchCentre {
  /** Continuous voxel coordinate [d, h, w] of the patch centre. */
  centre: Shape3;
  /** Whether it was chosen on a foreground voxel. */
  foreground: boolean;
}

/** One sampled (and augmented) patch with its provenance. */
export interface SampledPatch {
  /** The patch: image [D, H, W, C], label [D, H, W] when the case is labelled. */
  sample: Sample;
  /** Id of the case the patch came from. */
  caseId: string;
  /** Index of that case in the sampler's case list. */
  caseIndex: number;
  /** Continuous voxel coordinate of the patch centre in the case's (cropped) volume. */
  centre: Shape3;
  /** Whether the patch was centred on a foreground voxel. */
  foreground: boolean;
}

/**
 * Draws training patches from loaded cases, as nnU-Net's `DataLoader3D` followed by its
 * `SpatialTransform`, but with the spatial transform computed on the patch grid only:
 *
 * 1. choose a case uniformly;
 * 2. choose the patch centre: for a foreground sample, a random foreground class present in
 *    the case, then a random voxel of it (nnU-Net v1's class-then-voxel choice), which becomes
 *    voxel `floor(P/2)` of the patch; otherwise a random position with the patch inside the
 *    volume (centred on the volume along axes where the case is smaller than the patch);
 *    a case without foreground falls back to a random position, as nnU-Net does;
 * 3. build the identity grid of the patch and let every grid augmenter transform it;
 * 4. read the image trilinearly and the label by nearest neighbour at `centre + grid`, both
 *    0 outside the volume (this is also the padding of cases smaller than the patch);
 * 5. run the patch augmenters (`apply`) in order.
 *
 * All randomness comes from the `rng` passed to {@link sample}. The sampler caches each
 * case's foreground index on first use; the cache never changes results.
 */
export class PatchSampler {
  /** Patch spatial shape [D, H, W]. */
  readonly patchSize: Shape3;
  /** Image channels C (those of the first case; every case must match). */
  readonly channels: number;
  private readonly augmenters: readonly Augmenter[];
  private readonly fgIndex: (ForegroundIndex | undefined)[];
  private readonly identity: SamplingGrid;
  private readonly scratch: SamplingGrid;

  constructor(
    private readonly cases: readonly CaseData[],
    options: PatchSamplerOptions,
  ) {
    if (cases.length === 0) throw new Error('PatchSampler: no cases to sample from');
    const p = options.patchSize;
    if (!Array.isArray(p) || p.length !== 3 || p.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new Error(`PatchSampler: patchSize must be three positive integers [D, H, W], got ${JSON.stringify(p)}`);
    }
    this.patchSize = [p[0], p[1], p[2]];
    this.channels = cases[0]!.shape[3];
    for (const c of cases) {
      const [D, H, W, C] = c.shape;
      const id = c.meta?.id ?? '?';
      if (C !== this.channels) throw new Error(`PatchSampler: case ${id} has ${C} channels, expected ${this.channels} like the first case`);
      if (c.image.length !== D * H * W * C) throw new Error(`PatchSampler: case ${id} image has ${c.image.length} values, shape ${c.shape.join('x')} needs ${D * H * W * C}`);
      if (c.label && c.label.length !== D * H * W) throw new Error(`PatchSampler: case ${id} label has ${c.label.length} values, expected ${D * H * W}`);
    }
    this.augmenters = options.augmenters ?? [];
    this.fgIndex = new Array(cases.length).fill(undefined);
    this.identity = createIdentityGrid(this.patchSize);
    this.scratch = createIdentityGrid(this.patchSize);
  }

  /** Draw one patch. `foreground` asks for a patch centred on a foreground voxel. */
  sample(rng: Rng, foreground: boolean): SampledPatch {
    const caseIndex = rng.int(this.cases.length);
    const c = this.cases[caseIndex]!;
    const pick = this.chooseCentre(caseIndex, rng, foreground);
    // The grid lives only during this call: reuse one scratch grid, reset to the identity
    // (saves three 8 MB allocations per 128^3 patch).
    const grid = this.scratch;
    grid.shape = [...this.patchSize];
    grid.d.set(this.identity.d);
    grid.h.set(this.identity.h);
    grid.w.set(this.identity.w);
    let moved = false;
    for (const a of this.augmenters) {
      if (!a.transformGrid) continue;
      a.transformGrid(grid, rng);
      moved ||= !sameGrid(grid, this.identity);
    }

    const [D, H, W] = this.patchSize;
    const n = D * H * W;
    const image = new Float32Array(n * this.channels);
    const label = c.label ? new Uint8Array(n) : undefined;
    const caseShape: Shape3 = [c.shape[0], c.shape[1], c.shape[2]];
    if (moved) {
      sampleTrilinear(c.image, c.shape, grid, pick.centre, image);
      if (label) sampleNearest(c.label!, caseShape, grid, pick.centre, label);
    } else {
      // Untransformed grid (validation patches, or no spatial transform drawn): the patch is
      // an axis-aligned box; copy it by rows (identical values, ~10x faster).
      const start: Shape3 = [0, 1, 2].map((a) => Math.round(pick.centre[a]! - (this.patchSize[a]! - 1) / 2)) as Shape3;
      copyBox(c.image, caseShape, this.channels, start, this.patchSize, image);
      if (label) copyBox(c.label!, caseShape, 1, start, this.patchSize, label);
    }
    const sample: Sample = { image, shape: [D, H, W], channels: this.channels };
    if (label) sample.label = label;
    for (const a of this.augmenters) a.apply?.(sample, rng);
    return { sample, caseId: c.meta?.id ?? String(caseIndex), caseIndex, centre: pick.centre, foreground: pick.foreground };
  }

  /**
   * The patch centre (continuous voxel coordinates) for a sample of case `caseIndex`, and
   * whether it is on foreground. Exposed for tests and for custom samplers.
   */
  chooseCentre(caseIndex: number, rng: Rng, foreground: boolean): PatchCentre {
    const c = this.cases[caseIndex]!;
    const shape: Shape3 = [c.shape[0], c.shape[1], c.shape[2]];
    const P = this.patchSize;
    const start: Shape3 = [0, 0, 0];
    let onForeground = false;
    if (foreground && c.label) {
      const idx = this.foregroundIndex(caseIndex);
      if (idx.classes.length > 0) {
        const voxels = idx.voxels[rng.int(idx.classes.length)]!;
        const v = voxels[rng.int(voxels.length)]!;
        const HW = shape[1] * shape[2];
        const vox: Shape3 = [Math.floor(v / HW), Math.floor((v % HW) / shape[2]), v % shape[2]];
        for (let a = 0; a < 3; a++) start[a] = vox[a]! - Math.floor(P[a]! / 2);
        onForeground = true;
      }
    }
    if (!onForeground) {
      for (let a = 0; a < 3; a++) {
        const room = shape[a]! - P[a]!;
        // nnU-Net's need_to_pad: a case smaller than the patch is centred in it (the extra
        // floor((P - S) / 2) voxels of padding go before it); otherwise any position that
        // keeps the patch inside the volume.
        start[a] = room >= 0 ? rng.int(room + 1) : -Math.floor(-room / 2);
      }
    }
    const centre: Shape3 = [start[0] + (P[0] - 1) / 2, start[1] + (P[1] - 1) / 2, start[2] + (P[2] - 1) / 2];
    return { centre, foreground: onForeground };
  }

  /** The case's per-class foreground voxel lists, built on first use. */
  foregroundIndex(caseIndex: number): ForegroundIndex {
    let idx = this.fgIndex[caseIndex];
    if (!idx) {
      const label = this.cases[caseIndex]!.label;
      idx = label ? buildForegroundIndex(label) : { classes: [], voxels: [] };
      this.fgIndex[caseIndex] = idx;
    }
    return idx;
  }
}

/** Whether a grid still equals the identity grid (stops at the first difference). */
function sameGrid(a: SamplingGrid, b: SamplingGrid): boolean {
  const { d, h, w } = a;
  for (let i = 0; i < d.length; i++) if (d[i] !== b.d[i] || h[i] !== b.h[i] || w[i] !== b.w[i]) return false;
  return true;
}
