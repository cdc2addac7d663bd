/**
 * Plain-data volume types shared by every package.
 *
 * Memory layout convention (see docs/architecture.md): a NIfTI image of dims (nx, ny, nz) is a
 * row-major array of shape [nz, ny, nx] = [D, H, W], x fastest. Multi-channel data is
 * channels-last: [D, H, W, C], channel fastest. No transposes on read or write.
 */

/** The spatial shape `[D, H, W]`, slowest to fastest axis (= NIfTI z, y, x). */
export type Shape3 = [number, number, number];
/** The shape `[D, H, W, C]` of a channels-last multi-channel volume. */
export type Shape4 = [number, number, number, number];
/** A 4x4 voxel-to-world affine, row-major, in NIfTI's (i=x, j=y, k=z) voxel index order. */
export type Affine = number[][];

/** An axis-aligned box in [D, H, W] voxel indices: start inclusive, end exclusive. */
export interface Box3 {
  /** First voxel inside the box, per axis (inclusive). */
  start: Shape3;
  /** One past the last voxel inside the box, per axis (exclusive). */
  end: Shape3;
}

/** A channels-last float volume. */
export interface Volume {
  /** The values, channel fastest, then x, y, z. */
  data: Float32Array;
  /** `[D, H, W, C]`; `data.length === D*H*W*C`. */
  shape: Shape4;
}
