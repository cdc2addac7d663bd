import type { SamplingGrid, Shape3 } from '@voxseg/core';

/**
 * The identity sampling grid of a patch: for output voxel (i, j, k) the offsets
 * `i - (D-1)/2`, `j - (H-1)/2`, `k - (W-1)/2` from the patch centre (batchgenerators'
 * `create_zero_centered_coordinate_mesh`). Grid augmenters (rotation, scaling, elastic
 * deformation) transform these offsets about the centre; the sampler adds the patch centre.
 */
export function createIdentityGrid(shape: Shape3): SamplingGrid {
  const [D, H, W] = shape;
  const n = D * H * W;
  const d = new Float32Array(n);
  const h = new Float32Array(n);
  const w = new Float32Array(n);
  const cd = (D - 1) / 2;
  const ch = (H - 1) / 2;
  const cw = (W - 1) / 2;
  let o = 0;
  for (let i = 0; i < D; i++) {
    const vd = i - cd;
    for (let j = 0; j < H; j++) {
      const vh = j - ch;
      for (let k = 0; k < W; k++, o++) {
        d[o] = vd;
        h[o] = vh;
        w[o] = k - cw;
      }
    }
  }
  return { shape: [D, H, W], d, h, w };
}

/**
 * Apply a 3x3 linear map (row-major, acting on column vectors `[d, h, w]`) to every grid
 * offset in place. Rotation and scaling are both linear maps about the patch centre.
 */
export function applyLinearToGrid(grid: SamplingGrid, m: ArrayLike<number>): void {
  const { d, h, w } = grid;
  const m00 = m[0]!, m01 = m[1]!, m02 = m[2]!;
  const m10 = m[3]!, m11 = m[4]!, m12 = m[5]!;
  const m20 = m[6]!, m21 = m[7]!, m22 = m[8]!;
  for (let i = 0; i < d.length; i++) {
    const a = d[i]!, b = h[i]!, c = w[i]!;
    d[i] = m00 * a + m01 * b + m02 * c;
    h[i] = m10 * a + m11 * b + m12 * c;
    w[i] = m20 * a + m21 * b + m22 * c;
  }
}
