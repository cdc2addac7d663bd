/**
 * The q-th percentile (0..100) of `values` with linear interpolation between ranks, computed
 * exactly as numpy's default `np.percentile(values, q)` (method 'linear'): virtual index
 * `(n - 1) * q / 100`, and numpy's two-sided lerp (from below when the fraction is < 0.5,
 * from above otherwise) so results agree to the last bit.
 *
 * Sorts a copy; `values` is not modified. Throws on an empty list.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const quantile = q / 100;
  // numpy's 'linear' method: virtual index (n - 1) * q.
  const virtual = (n - 1) * quantile;
  const lowIndex = Math.floor(virtual);
  const gamma = virtual - lowIndex;
  const lo = sorted[Math.min(Math.max(lowIndex, 0), n - 1)]!;
  const hi = sorted[Math.min(Math.max(lowIndex + 1, 0), n - 1)]!;
  const diff = hi - lo;
  return gamma >= 0.5 ? hi - diff * (1 - gamma) : lo + diff * gamma;
}
