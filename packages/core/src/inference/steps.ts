import type { Shape3 } from '../volume/types.js';
import { roundHalfEven } from '../volume/round-half-even.js';

/**
 * Start offsets of the sliding windows along each axis, exactly as nnU-Net's
 * `_compute_steps_for_sliding_window`: the largest step is `patch * stepFraction`; the
 * number of windows is `ceil((size - patch) / (patch * stepFraction)) + 1`; the windows are
 * spread evenly from 0 to `size - patch`, at `round(i * (size - patch) / (count - 1))` with
 * numpy's rounding (ties to even). The first window starts at 0 and the last ends at `size`.
 *
 * @param patchSize window size [D, H, W]
 * @param size volume size [D, H, W]; every axis must be at least the patch (pad first)
 * @param stepFraction in (0, 1]: 0.5 = windows overlap by half a patch (nnU-Net's default)
 * @returns one list of start offsets per axis
 */
export function slidingWindowSteps(patchSize: Shape3, size: Shape3, stepFraction: number): [number[], number[], number[]] {
  if (!(stepFraction > 0 && stepFraction <= 1)) {
    throw new RangeError(`slidingWindowSteps(stepFraction): must be in (0, 1], got ${stepFraction}`);
  }
  return [0, 1, 2].map((a) => {
    const patch = patchSize[a]!;
    const extent = size[a]!;
    if (extent < patch) {
      throw new RangeError(`slidingWindowSteps: volume size ${extent} is smaller than the patch ${patch} on axis ${a}; pad the volume first`);
    }
    const count = Math.ceil((extent - patch) / (patch * stepFraction)) + 1;
    if (count === 1) return [0];
    const step = (extent - patch) / (count - 1);
    return Array.from({ length: count }, (_, i) => roundHalfEven(step * i));
  }) as [number[], number[], number[]];
}
