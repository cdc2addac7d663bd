import type * as tf from '@tensorflow/tfjs-core';
import type { ExperimentContext } from '../container/experiment.js';

/**
 * An optimizer: updates a fixed list of variables from their gradients, with the learning rate
 * passed to every step (so schedules and the trainer's `setLearningRate` command never mutate
 * it).
 *
 * Checkpoints: the trainer saves {@link Optimizer.stateTensors} (e.g. momentum buffers, Adam's
 * moments) into `optimizer.bin` and {@link Optimizer.getState} (plain JSON: step counts,
 * settings) into `trainer-state.json`, and on resume hands both back to
 * {@link Optimizer.setState}. An optimizer whose state round-trips exactly makes a resumed run
 * bit-identical to an uninterrupted one.
 *
 * Implementations: `sgd` (the default: PyTorch's SGD with Nesterov momentum, nnU-Net's
 * settings) and `adamw` (PyTorch's AdamW), both registered by `corePlugin()`.
 */
export interface Optimizer {
  /** Registry name of the optimizer, checked on resume (a checkpoint of `sgd` cannot resume `adamw`). */
  readonly name: string;
  /** The trainable variables, in the fixed order of {@link Optimizer.step}'s gradients. */
  readonly variables: readonly tf.Variable[];
  /**
   * Apply one update.
   * @param grads one gradient per variable, or `undefined` when a variable got none this step
   *   (PyTorch: `grad is None`; the variable and its state are left untouched). Not disposed.
   * @param lr learning rate of this step
   * @param gradScale optional scalar every gradient is multiplied by first (gradient clipping)
   */
  step(grads: readonly (tf.Tensor | undefined)[], lr: number, gradScale?: tf.Scalar): void;
  /** Tensors of the state (a fixed list, same order every call), named for the checkpoint. */
  stateTensors(): { name: string; tensor: tf.Tensor }[];
  /** Plain-JSON part of the state (step counts, flags, settings). */
  getState(): object;
  /**
   * Restore a state saved by {@link getState} and the tensors of {@link stateTensors}, in
   * that order. The tensors are copied; the caller keeps ownership.
   */
  setState(state: Record<string, unknown>, tensors: readonly tf.Tensor[]): void;
  /** Free the state tensors. */
  dispose(): void;
}

/**
 * Registry entry for optimizers. `create` receives the trainable variables as well as the
 * options (the learning rate is not an option: the scheduler gives it to every step).
 */
export interface OptimizerFactory<O = Record<string, unknown>> {
  readonly name: string;
  readonly description?: string;
  readonly defaults?: Partial<O>;
  create(options: O, variables: readonly tf.Variable[], ctx: ExperimentContext): Optimizer;
}
