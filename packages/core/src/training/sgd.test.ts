import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradient kernels on import (tf.variableGrads needs them).
import '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipCoefficient, clipGradNorm } from './clip-grad-norm.js';
import { SGD } from './sgd.js';

// Golden values: PyTorch 1.13's torch.optim.SGD + clip_grad_norm_, produced by
// packages/core/scripts/golden_sgd.py (see its docstring) and committed as sgd.golden.json.
interface Param { shape: number[]; w: number[]; s: number[]; c: number[] }
interface Step { totalNorm: number; clipped: boolean; w1: number[]; w2: number[]; buf1: number[]; buf2: number[] }
interface Case { name: string; momentum: number; nesterov: boolean; weight_decay: number; max_norm: number; lrs: number[]; steps: Step[] }
const golden = JSON.parse(readFileSync(new URL('./sgd.golden.json', import.meta.url), 'utf8')) as {
  initial: Record<'w1' | 'w2', Param>;
  cases: Case[];
};

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!)));
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SGD + clipGradNorm match PyTorch (golden)', () => {
  // Both ways of clipping: scaled gradient copies (clipGradNorm), and the coefficient applied
  // inside SGD.step (what the trainer does).
  for (const [c, viaCoefficient] of golden.cases.flatMap((c) => [[c, false], [c, true]] as const)) {
    it(`${c.name}${viaCoefficient ? ' (clip coefficient inside SGD.step)' : ''}`, () => {
      const names = ['w1', 'w2'] as const;
      const vars = names.map((k) => tf.variable(tf.tensor(golden.initial[k].w, golden.initial[k].shape)));
      const s = names.map((k) => tf.tensor(golden.initial[k].s, golden.initial[k].shape));
      const cs = names.map((k) => tf.tensor(golden.initial[k].c, golden.initial[k].shape));
      const opt = new SGD(vars, { momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weight_decay });
      const before = tf.memory().numTensors;
      c.steps.forEach((expected, stepIndex) => {
        const { value, grads } = tf.variableGrads(() =>
          tf.addN(vars.map((w, i) => tf.sum(tf.add(tf.div(tf.mul(s[i]!, tf.pow(w, 3)), 3), tf.mul(cs[i]!, w))))) as tf.Scalar,
        vars,
        );
        const raw = vars.map((v) => grads[v.name]!);
        if (viaCoefficient) {
          const { coef, totalNorm } = clipCoefficient(raw, c.max_norm);
          expect(totalNorm.dataSync()[0]).toBeCloseTo(expected.totalNorm, 4);
          opt.step(raw, c.lrs[stepIndex]!, coef);
          tf.dispose([coef, totalNorm]);
        } else {
          const clipped = clipGradNorm(raw, c.max_norm);
          expect(clipped.totalNorm.dataSync()[0]).toBeCloseTo(expected.totalNorm, 4);
          opt.step(clipped.grads, c.lrs[stepIndex]!);
          tf.dispose([clipped.totalNorm, ...clipped.grads]);
        }
        tf.dispose([value, ...Object.values(grads)]);
        expect(tf.memory().numTensors, 'no tensor leak per step').toBe(before);
        expectClose(vars[0]!.dataSync(), expected.w1, 2e-6);
        expectClose(vars[1]!.dataSync(), expected.w2, 2e-6);
        expectClose(opt.buffers[0]!.dataSync(), expected.buf1, 2e-6);
        expectClose(opt.buffers[1]!.dataSync(), expected.buf2, 2e-6);
      });
      expect(c.steps.some((x) => x.clipped) || c.max_norm > 1e5).toBe(true);
      opt.dispose();
      tf.dispose([...vars, ...s, ...cs]);
    });
  }
});

describe('SGD', () => {
  it('skips variables without a gradient (as PyTorch does for grad=None)', () => {
    const a = tf.variable(tf.tensor([1, 2]));
    const b = tf.variable(tf.tensor([3, 4]));
    const opt = new SGD([a, b], { momentum: 0.9, weightDecay: 0.5 });
    const g = tf.tensor([1, 1]);
    opt.step([g, undefined], 0.1);
    expect(Array.from(b.dataSync())).toEqual([3, 4]);
    expect(opt.getState().initialized).toEqual([true, false]);
    expect(opt.getState().steps).toBe(1);
    opt.dispose();
    tf.dispose([a, b, g]);
  });

  it('state round trip continues exactly like the original', () => {
    const mk = () => tf.variable(tf.tensor([0.5, -1.5, 2]));
    const w1 = mk();
    const w2 = mk();
    const o1 = new SGD([w1]);
    const o2 = new SGD([w2]);
    const grads = [tf.tensor([0.3, -0.2, 0.1]), tf.tensor([-0.1, 0.4, 0.2]), tf.tensor([0.05, 0.05, -0.3])];
    o1.step([grads[0]], 0.01);
    o2.setState(o1.getState(), o1.buffers);
    w2.assign(w1);
    for (const g of grads.slice(1)) {
      o1.step([g], 0.01);
      o2.step([g], 0.01);
    }
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    expect(Array.from(o2.buffers[0]!.dataSync())).toEqual(Array.from(o1.buffers[0]!.dataSync()));
    o1.dispose();
    o2.dispose();
    tf.dispose([w1, w2, ...grads]);
  });

  it('rejects bad options and learning rates with a clear message', () => {
    const w = tf.variable(tf.zeros([2]));
    expect(() => new SGD([w], { momentum: 1 })).toThrow(/momentum must be in \[0, 1\)/);
    const opt = new SGD([w]);
    expect(() => opt.step([tf.zeros([2])], Number.NaN)).toThrow(/learning rate/);
    expect(() => opt.step([], 0.1)).toThrow(/0 gradients for 1 variables/);
    opt.dispose();
    w.dispose();
  });
});

describe('clipGradNorm', () => {
  it('leaves gradients unchanged below the threshold and scales to maxNorm above it', () => {
    const g = [tf.tensor([3, 0]), tf.tensor([0, 4])]; // total norm 5
    const low = clipGradNorm(g, 10);
    expect(Array.from(low.grads[0]!.dataSync())).toEqual([3, 0]);
    const high = clipGradNorm(g, 1);
    expect(high.totalNorm.dataSync()[0]).toBeCloseTo(5, 6);
    const scaled = [...high.grads[0]!.dataSync(), ...high.grads[1]!.dataSync()];
    expect(Math.hypot(...scaled)).toBeCloseTo(1 * (5 / (5 + 1e-6)), 6);
    tf.dispose([...g, ...low.grads, low.totalNorm, ...high.grads, high.totalNorm]);
  });
});
