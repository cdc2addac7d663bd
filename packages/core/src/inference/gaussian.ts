import type { Shape3 } from '../volume/types.js';

/**
 * nnU-Net's Gaussian importance map for a patch: how much a window's prediction counts at
 * each voxel when overlapping windows are averaged. Predictions near a window's border see
 * less context, so they weigh less.
 *
 * Definition (nnU-Net `_get_gaussian` / `compute_gaussian`): a unit impulse at `patch // 2`
 * filtered with `scipy.ndimage.gaussian_filter(sigma = patch * sigmaScale, mode='constant')`,
 * divided by its maximum, cast to float32, and zeros replaced by the smallest non-zero value
 * (a zero weight could make a voxel's total weight 0 and its average NaN).
 *
 * Computed in closed form: the filtered impulse is separable, each axis being scipy's
 * normalised 1-D kernel `exp(-x^2 / (2 sigma^2))` truncated at `|x| <= floor(4 sigma + 0.5)`;
 * dividing by the value at the centre cancels the normalisation constants, leaving the
 * product of the unnormalised 1-D kernels.
 *
 * @param patchSize [D, H, W]
 * @param sigmaScale sigma as a fraction of the patch size per axis (default 1/8)
 * @returns Float32Array [D, H, W], max 1, all values > 0
 */
export function gaussianImportanceMap(patchSize: Shape3, sigmaScale = 1 / 8): Float32Array {
  if (!(sigmaScale > 0)) throw new RangeError(`gaussianImportanceMap(sigmaScale): must be > 0, got ${sigmaScale}`);
  const [D, H, W] = patchSize;
  const axes = patchSize.map((p) => {
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`gaussianImportanceMap(patchSize): need positive integers, got [${patchSize.join(',')}]`);
    const sigma = p * sigmaScale;
    const radius = Math.floor(4 * sigma + 0.5); // scipy: int(truncate * sigma + 0.5), truncate 4
    const centre = Math.floor(p / 2);
    const profile = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      const x = i - centre;
      profile[i] = Math.abs(x) <= radius ? Math.exp((-0.5 * x * x) / (sigma * sigma)) : 0;
    }
    return profile;
  });
  const [gz, gy, gx] = axes as [Float64Array, Float64Array, Float64Array];
  const map = new Float32Array(D * H * W);
  let minPositive = Infinity;
  let i = 0;
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      const zy = gz[z]! * gy[y]!;
      for (let x = 0; x < W; x++, i++) {
        const v = Math.fround(zy * gx[x]!);
        map[i] = v;
        if (v > 0 && v < minPositive) minPositive = v;
      }
    }
  }
  for (let j = 0; j < map.length; j++) if (map[j] === 0) map[j] = minPositive;
  return map;
}
