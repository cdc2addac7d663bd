import type { Scheduler, SchedulerFactory, SchedulerState } from '../contracts/scheduler.js';

/** Options of the `warmup-cosine` scheduler. */
export interface WarmupCosineOptions {
  /** Iterations of linear warm-up from `initialLr / warmupIterations` to `initialLr`. Default 250 (one nnU-Net epoch). */
  warmupIterations?: number;
  /** Learning rate reached at the end of training. Default 0. */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay, per iteration. With `t` the global iteration
 * (`epoch * iterationsPerEpoch + iteration`), `T` the total and `W` the warm-up:
 *
 * ```text
 * t <  W:  lr = initialLr * (t + 1) / W
 * t >= W:  lr = minLr + (initialLr - minLr) * (1 + cos(pi * (t - W) / (T - W))) / 2
 * ```
 *
 * A pure function of the position, so a resumed run gets the same rates.
 */
export function warmupCosineLearningRate(s: SchedulerState, options: WarmupCosineOptions = {}): number {
  const total = s.epochs * s.iterationsPerEpoch;
  const warmup = Math.min(options.warmupIterations ?? 250, total);
  const minLr = options.minLr ?? 0;
  const t = s.epoch * s.iterationsPerEpoch + s.iteration;
  if (t < warmup) return (s.initialLr * (t + 1)) / warmup;
  const span = total - warmup;
  const progress = span > 0 ? Math.min(1, (t - warmup) / span) : 1;
  return minLr + ((s.initialLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** Create a `warmup-cosine` {@link Scheduler}. */
export function warmupCosineScheduler(options: WarmupCosineOptions = {}): Scheduler {
  const warmup = options.warmupIterations ?? 250;
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`warmup-cosine scheduler: warmupIterations must be a non-negative integer, got ${warmup}`);
  if (!((options.minLr ?? 0) >= 0)) throw new RangeError(`warmup-cosine scheduler: minLr must be >= 0, got ${options.minLr}`);
  return { name: 'warmup-cosine', learningRate: (s) => warmupCosineLearningRate(s, options) };
}

/** Registry entry `warmup-cosine`, registered by `corePlugin()`. */
export const warmupCosineSchedulerFactory: SchedulerFactory<WarmupCosineOptions> = {
  name: 'warmup-cosine',
  description: 'linear warm-up over warmupIterations, then cosine decay to minLr, per iteration',
  defaults: { warmupIterations: 250, minLr: 0 },
  create: (options) => warmupCosineScheduler(options),
};
