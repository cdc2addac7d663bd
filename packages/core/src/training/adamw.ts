import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, OptimizerFactory } from '../contracts/optimizer.js';

/** Options of {@link AdamW}; the defaults are PyTorch's `torch.optim.AdamW`. */
export interface AdamWOptions {
  /** Coefficient of the running mean of the gradient. Default 0.9. */
  beta1?: number;
  /** Coefficient of the running mean of the squared gradient. Default 0.999. */
  beta2?: number;
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (`w -= lr * weightDecay * w` before the Adam step). Default 0.01. */
  weightDecay?: number;
}

/** Plain-data state of {@link AdamW}: the step count of each variable (PyTorch keeps one per parameter). */
export interface AdamWState {
  steps: number[];
}

/**
 * Adam with decoupled weight decay, with exactly the update of PyTorch's
 * `torch.optim.AdamW(params, lr, betas=(beta1, beta2), eps, weight_decay, amsgrad=False)`
 * (single-tensor implementation), per variable with its own step count `t`:
 *
 * ```text
 * w  = w * (1 - lr * weightDecay)
 * m  = beta1 * m + (1 - beta1) * g
 * v  = beta2 * v + (1 - beta2) * g^2
 * w  = w - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * ```
 *
 * The moments are `tf.Variable`s allocated once, so the number of live tensors does not change
 * from step to step. A variable without a gradient in a step is left untouched (its `t` too).
 */
export class AdamW implements Optimizer {
  readonly name = 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private steps: number[];

  constructor(readonly variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`AdamW: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.eps > 0)) throw new RangeError(`AdamW: eps must be > 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.m = tf.tidy(() => variables.map((w) => tf.variable(tf.zerosLike(w), false, undefined, 'float32')));
    this.v = tf.tidy(() => variables.map((w) => tf.variable(tf.zerosLike(w), false, undefined, 'float32')));
    this.steps = variables.map(() => 0);
  }

  step(grads: readonly (tf.Tensor | undefined)[], lr: number, gradScale?: tf.Scalar): void {
    if (grads.length !== this.variables.length) throw new RangeError(`AdamW.step: ${grads.length} gradients for ${this.variables.length} variables`);
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`AdamW.step: learning rate must be finite and >= 0, got ${lr}`);
    grads.forEach((grad, i) => {
      if (!grad) return;
      const t = this.steps[i]! + 1;
      // Bias corrections in float64 on the CPU, as PyTorch computes them from a Python float step.
      const bc1 = 1 - this.beta1 ** t;
      const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
      tf.tidy(() => {
        const w = this.variables[i]!;
        const g = gradScale ? tf.mul(grad, gradScale) : grad;
        const decayed = this.weightDecay !== 0 ? tf.mul(w, tf.scalar(1 - lr * this.weightDecay)) : w;
        const m = tf.add(tf.mul(this.m[i]!, tf.scalar(this.beta1)), tf.mul(g, tf.scalar(1 - this.beta1)));
        const v = tf.add(tf.mul(this.v[i]!, tf.scalar(this.beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), tf.scalar(this.eps));
        w.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), tf.scalar(lr / bc1))));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
      });
      this.steps[i] = t;
    });
  }

  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    const name = (i: number) => this.variables[i]!.name;
    return [...this.m.map((tensor, i) => ({ name: `m/${i}/${name(i)}`, tensor })), ...this.v.map((tensor, i) => ({ name: `v/${i}/${name(i)}`, tensor }))];
  }

  getState(): AdamWState & { beta1: number; beta2: number; eps: number; weightDecay: number } {
    return { steps: [...this.steps], beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  setState(state: Record<string, unknown>, tensors: readonly tf.Tensor[]): void {
    const steps = (state as Partial<AdamWState>).steps;
    const n = this.variables.length;
    if (!Array.isArray(steps) || steps.length !== n || tensors.length !== 2 * n) {
      throw new RangeError(`AdamW.setState: expected ${n} step counts and ${2 * n} moment tensors, got ${Array.isArray(steps) ? steps.length : 'no'} and ${tensors.length}`);
    }
    [...this.m, ...this.v].forEach((target, k) => {
      const src = tensors[k]!;
      if (src.shape.join() !== target.shape.join()) throw new RangeError(`AdamW.setState: moment ${k} has shape [${src.shape}], expected [${target.shape}]`);
      target.assign(src);
    });
    this.steps = [...steps];
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** Registry entry `adamw` (PyTorch's defaults: betas 0.9/0.999, eps 1e-8, weight decay 0.01). */
export const adamwOptimizerFactory: OptimizerFactory<AdamWOptions> = {
  name: 'adamw',
  description: "PyTorch's AdamW (decoupled weight decay; betas 0.9/0.999, eps 1e-8, weight decay 0.01)",
  defaults: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
  create: (options, variables) => new AdamW(variables, options),
};
