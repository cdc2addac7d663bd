/**
 * Round to the nearest integer, ties to even: what numpy's `np.round` and Python's `round`
 * do. nnU-Net computes sliding-window steps and deep-supervision shapes with them, and
 * `Math.round` (ties up) would differ on exact halves (e.g. 2.5 -> 2 here, 3 in JS).
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds ties towards +infinity; bring an exact tie that landed on odd back down.
  // `+ 0` turns -0 (from e.g. -0.4) into 0, as Python prints it.
  return (r - x === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}
