import type { Factory } from './factory.js';

/** Where training is when the learning rate is asked for. */
export interface SchedulerState {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based iteration within the epoch. */
  iteration: number;
  /** Total epochs of the run. */
  epochs: number;
  /** Iterations per epoch. */
  iterationsPerEpoch: number;
  /** Initial learning rate from the config. */
  initialLr: number;
}

/**
 * A learning-rate schedule. The trainer asks at the start of every epoch (`iteration` 0) and
 * before every iteration; a per-epoch schedule (nnU-Net's poly) ignores `iteration`.
 * Must be a pure function of its state so resume reproduces it.
 */
export interface Scheduler {
  readonly name: string;
  learningRate(state: SchedulerState): number;
}

/** Registry entry for schedulers (`poly` is the default: lr0 * (1 - epoch/epochs)^0.9). */
export type SchedulerFactory<O = Record<string, unknown>> = Factory<Scheduler, O>;
