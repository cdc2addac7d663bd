/**
 * Plain-data volume types shared by every package.
 *
 * Memory layout convention (see DESIGN.md): a NIfTI image of dims (nx, ny, nz) is a
 * row-major array of shape [nz, ny, nx] = [D, H, W], x fastest. Multi-channel data is
 * channels-last: [D, H, W, C], channel fastest. No transposes on read or write.
 */

/** [D, H, W]: the spatial shape, slowest to fastest axis (= NIfTI z, y, x). */
export type Shape3 = [number, number, number];
/** [D, H, W, C]: a channels-last multi-channel volume. */
export type Shape4 = [number, number, number, number];
/** A 4x4 voxel-to-world affine, row-major, in NIfTI's (i=x, j=y, k=z) voxel index order. */
export type Affine = number[][];

/** An axis-aligned box in [D, H, W] voxel indices: start inclusive, end exclusive. */
export interface Box3 {
  start: Shape3;
  end: Shape3;
}

/** A channels-last float volume. */
export interface Volume {
  data: Float32Array;
  /** [D, H, W, C]; data.length === D*H*W*C. */
  shape: Shape4;
}
