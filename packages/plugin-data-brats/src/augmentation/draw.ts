import { optionChecks, type Rng } from '@voxseg/core';

/** A closed range [low, high] of a random factor. */
export type Range = readonly [number, number];

/**
 * batchgenerators' rule for factors around 1 (contrast, gamma, scaling): when the range
 * straddles 1, half of the draws come from [low, 1) and half from [1, high], so shrinking
 * and enlarging are equally likely whatever the range's asymmetry (e.g. 0.65-1.6).
 */
export function drawAroundOne(rng: Rng, range: Range): number {
  const [low, high] = range;
  if (rng.next() < 0.5 && low < 1) return rng.uniform(low, 1);
  return rng.uniform(Math.max(low, 1), high);
}

/** Check an option range: two finite numbers, low <= high. Throws naming the augmenter and option (core's {@link optionChecks}). */
export function checkRange(owner: string, option: string, r: unknown): Range {
  return optionChecks(owner).range(option, r);
}

/** Check a probability option in [0, 1] (core's {@link optionChecks}). */
export function checkProbability(owner: string, option: string, p: unknown): number {
  return optionChecks(owner).probability(option, p);
}
