import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, OptimizerFactory } from '../contracts/optimizer.js';

/** Options of {@link SGD}; the defaults are nnU-Net's (and the BraTS 2021 winners'). */
export interface SGDOptions {
  /** Momentum factor. Default 0.99. */
  momentum?: number;
  /** Nesterov momentum. Default true. */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient (PyTorch style, not decoupled). Default 3e-5. */
  weightDecay?: number;
}

/** Plain-data part of the optimizer state (the momentum buffers are tensors, saved apart). */
export interface SGDState {
  /** Steps taken so far. */
  steps: number;
  /** Per variable: whether its momentum buffer holds a value yet (PyTorch: buffer is not None). */
  initialized: boolean[];
}

/**
 * Stochastic gradient descent with momentum, with exactly the update of PyTorch's
 * `torch.optim.SGD(params, lr, momentum, dampening=0, weight_decay, nesterov)`:
 *
 * ```text
 * g   = grad + weightDecay * w
 * buf = g                       (first step of this variable)
 * buf = momentum * buf + g      (later steps)
 * u   = nesterov ? g + momentum * buf : buf
 * w   = w - lr * u
 * ```
 *
 * The learning rate is passed to every {@link SGD.step}, so schedules and the trainer's
 * `setLearningRate` command need no optimizer mutation. Momentum buffers are `tf.Variable`s
 * allocated once (zeros) at construction, so the number of live tensors does not change from
 * one step to the next; they are exposed for checkpoints through {@link SGD.buffers} and
 * restored with {@link SGD.setState}. A variable that gets no gradient in a step (PyTorch:
 * `grad is None`) is left untouched, weight decay included.
 */
export class SGD implements Optimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly bufferVars: tf.Variable[];
  private initialized: boolean[];
  private steps = 0;

  /** @param variables the trainable variables, in a fixed order (the checkpoint order). */
  constructor(readonly variables: readonly tf.Variable[], options: SGDOptions = {}) {
    this.momentum = options.momentum ?? 0.99;
    this.nesterov = options.nesterov ?? true;
    this.weightDecay = options.weightDecay ?? 3e-5;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`SGD: momentum must be in [0, 1), got ${this.momentum}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`SGD: weightDecay must be >= 0, got ${this.weightDecay}`);
    if (this.nesterov && this.momentum === 0) throw new RangeError('SGD: Nesterov momentum requires momentum > 0');
    // tidy disposes the zeros the variables were initialised from (a variable keeps its own reference).
    this.bufferVars = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false, undefined, 'float32')));
    this.initialized = variables.map(() => false);
  }

  /** Momentum buffers, one per variable, in the order of {@link SGD.variables}. */
  get buffers(): readonly tf.Variable[] {
    return this.bufferVars;
  }

  /**
   * Apply one update.
   * @param grads one gradient per variable (same order), or `undefined` for a variable
   *   without gradient this step. Not disposed here.
   * @param lr learning rate of this step
   * @param gradScale optional scalar every gradient is multiplied by first (the clipping
   *   coefficient from `clipCoefficient`), so clipping needs no scaled copy of the gradients
   */
  step(grads: readonly (tf.Tensor | undefined)[], lr: number, gradScale?: tf.Scalar): void {
    if (grads.length !== this.variables.length) {
      throw new RangeError(`SGD.step: ${grads.length} gradients for ${this.variables.length} variables`);
    }
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`SGD.step: learning rate must be finite and >= 0, got ${lr}`);
    const [lrT, mT, wdT] = [tf.scalar(lr), tf.scalar(this.momentum), tf.scalar(this.weightDecay)];
    try {
      grads.forEach((grad, i) => {
        if (!grad) return;
        // One tidy per variable: intermediates of a variable are freed before the next one, so
        // the peak memory is a few copies of the largest weight, not of the whole network.
        tf.tidy(() => {
          const w = this.variables[i]!;
          const buf = this.bufferVars[i]!;
          const raw = gradScale ? tf.mul(grad, gradScale) : grad;
          const g = this.weightDecay !== 0 ? tf.add(raw, tf.mul(wdT, w)) : raw;
          const newBuf = this.initialized[i] ? tf.add(tf.mul(mT, buf), g) : g;
          const update = this.nesterov ? tf.add(g, tf.mul(mT, newBuf)) : newBuf;
          w.assign(tf.sub(w, tf.mul(lrT, update)));
          buf.assign(newBuf);
        });
        this.initialized[i] = true;
      });
    } finally {
      tf.dispose([lrT, mT, wdT]);
    }
    this.steps++;
  }

  /** Plain-data state (the buffers themselves: {@link SGD.buffers}), with the settings for the record. */
  getState(): SGDState & { momentum: number; nesterov: boolean; weightDecay: number } {
    return { steps: this.steps, initialized: [...this.initialized], momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  /** The momentum buffers, named `momentum/<i>/<variable>` (the checkpoint's `optimizer.bin`). */
  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    return this.bufferVars.map((tensor, i) => ({ name: `momentum/${i}/${this.variables[i]!.name}`, tensor }));
  }

  /**
   * Restore a state saved with {@link SGD.getState} and the buffers saved from
   * {@link SGD.buffers}. The given tensors are copied; the caller keeps ownership.
   */
  setState(state: SGDState | Record<string, unknown>, buffers: readonly tf.Tensor[]): void {
    const s = state as SGDState;
    if (!Array.isArray(s.initialized) || typeof s.steps !== 'number') throw new RangeError('SGD.setState: expected { steps, initialized[] }');
    if (buffers.length !== this.bufferVars.length || s.initialized.length !== this.bufferVars.length) {
      throw new RangeError(`SGD.setState: state for ${buffers.length} buffers, optimizer has ${this.bufferVars.length}`);
    }
    buffers.forEach((b, i) => {
      const target = this.bufferVars[i]!;
      if (b.shape.join() !== target.shape.join()) {
        throw new RangeError(`SGD.setState: buffer ${i} has shape [${b.shape}], variable "${this.variables[i]!.name}" has [${target.shape}]`);
      }
      target.assign(b);
    });
    this.steps = s.steps;
    this.initialized = [...s.initialized];
  }

  /** Free the momentum buffers. */
  dispose(): void {
    tf.dispose(this.bufferVars);
  }
}

/** Registry entry `sgd`: the default optimizer (nnU-Net's SGD, momentum 0.99, Nesterov, weight decay 3e-5). */
export const sgdOptimizerFactory: OptimizerFactory<SGDOptions> = {
  name: 'sgd',
  description: "PyTorch's SGD with Nesterov momentum (nnU-Net: momentum 0.99, weight decay 3e-5)",
  defaults: { momentum: 0.99, nesterov: true, weightDecay: 3e-5 },
  create: (options, variables) => new SGD(variables, options),
};
