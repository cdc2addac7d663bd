import type { Scheduler, SchedulerFactory, SchedulerState } from '../contracts/scheduler.js';

/** Options of the `poly` scheduler. */
export interface PolySchedulerOptions {
  /** Exponent of the decay. Default 0.9 (nnU-Net). */
  exponent?: number;
}

/**
 * nnU-Net's polynomial learning-rate decay, updated once per epoch:
 * `lr = initialLr * (1 - epoch / epochs) ^ exponent`. The learning rate reaches 0 only after
 * the last epoch; epochs past the end give 0 rather than NaN.
 */
export function polyLearningRate(initialLr: number, epoch: number, epochs: number, exponent = 0.9): number {
  const remaining = Math.max(0, 1 - epoch / epochs);
  return initialLr * remaining ** exponent;
}

/** Create a `poly` {@link Scheduler} (ignores `iteration`: nnU-Net updates once per epoch). */
export function polyScheduler(options: PolySchedulerOptions = {}): Scheduler {
  const exponent = options.exponent ?? 0.9;
  if (!(exponent > 0)) throw new RangeError(`poly scheduler: exponent must be positive, got ${exponent}`);
  return {
    name: 'poly',
    learningRate: (s: SchedulerState) => polyLearningRate(s.initialLr, s.epoch, s.epochs, exponent),
  };
}

/** Registry entry `poly`: the default scheduler, registered by `corePlugin()`. */
export const polySchedulerFactory: SchedulerFactory<PolySchedulerOptions> = {
  name: 'poly',
  description: "nnU-Net's poly decay: lr0 * (1 - epoch/epochs)^0.9, updated per epoch",
  defaults: { exponent: 0.9 },
  create: (options) => polyScheduler(options),
};
