/** Mean and standard deviation used to normalise one channel. */
export interface ChannelStats {
  mean: number;
  std: number;
}

/**
 * nnU-Net's z-score normalisation with a mask: mean and (population) std of the voxels inside
 * the mask, `(v - mean) / (std + 1e-8)` inside, 0 outside. Sums in float64.
 * @returns the normalised channel (new array) and the statistics used
 */
export function zscoreInMask(data: ArrayLike<number>, mask: Uint8Array, eps = 1e-8): { data: Float32Array; stats: ChannelStats } {
  const n = data.length;
  let count = 0, sum = 0;
  for (let i = 0; i < n; i++) if (mask[i]) { sum += data[i]!; count++; }
  const mean = count > 0 ? sum / count : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) if (mask[i]) { const d = data[i]! - mean; sq += d * d; }
  const std = count > 0 ? Math.sqrt(sq / count) : 0;
  const scale = 1 / (std + eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mask[i] ? (data[i]! - mean) * scale : 0;
  return { data: out, stats: { mean, std } };
}
