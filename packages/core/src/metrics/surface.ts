import type { Shape3 } from '../volume/types.js';

/**
 * The surface of a binary mask as medpy defines it: the mask minus its binary erosion by
 * the 6-connected cross (`scipy.ndimage.generate_binary_structure(3, 1)`), with everything
 * outside the array counting as background. A mask voxel is on the surface when at least
 * one of its 6 face neighbours is background or outside the array.
 *
 * @param mask non-zero = inside, [D, H, W]
 * @returns 1 on surface voxels, 0 elsewhere
 */
export function surfaceMask(mask: ArrayLike<number>, shape: Shape3): Uint8Array {
  const [D, H, W] = shape;
  const plane = H * W;
  const out = new Uint8Array(D * H * W);
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      const row = z * plane + y * W;
      // Faces of the array are always surface (the outside is background).
      const borderRow = z === 0 || z === D - 1 || y === 0 || y === H - 1;
      for (let x = 0; x < W; x++) {
        const i = row + x;
        if (mask[i] === 0) continue;
        if (
          borderRow || x === 0 || x === W - 1 ||
          mask[i - 1] === 0 || mask[i + 1] === 0 ||
          mask[i - W] === 0 || mask[i + W] === 0 ||
          mask[i - plane] === 0 || mask[i + plane] === 0
        ) {
          out[i] = 1;
        }
      }
    }
  }
  return out;
}
