import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradient kernels on import (tf.variableGrads needs them).
import '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { corePlugin } from '../core-plugin.js';
import { createExperiment } from '../container/experiment.js';
import { AdamW } from './adamw.js';
import { warmupCosineLearningRate } from './warmup-cosine-scheduler.js';

// Golden values: PyTorch 1.13's torch.optim.AdamW (weights and moments after every step) and
// LambdaLR stepped per iteration for warmup-cosine, produced by
// packages/core/scripts/golden_adamw_schedulers.py and committed as adamw.golden.json.
interface Param { shape: number[]; w: number[]; s: number[]; c: number[] }
interface Step { w1: number[]; w2: number[]; m1: number[]; v2: number[] }
interface Case { name: string; beta1: number; beta2: number; eps: number; weight_decay: number; lrs: number[]; steps: Step[] }
interface Schedule { initialLr: number; epochs: number; iterationsPerEpoch: number; warmupIterations: number; minLr: number; lrs: number[] }
const golden = JSON.parse(readFileSync(new URL('./adamw.golden.json', import.meta.url), 'utf8')) as {
  initial: Record<'w1' | 'w2', Param>;
  adamw: Case[];
  warmupCosine: Schedule[];
};

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!)));
  }
}

/** The golden problem: loss = sum(s * w^3 / 3 + c * w), so grad = s * w^2 + c. */
function problem() {
  const names = ['w1', 'w2'] as const;
  const vars = names.map((k) => tf.variable(tf.tensor(golden.initial[k].w, golden.initial[k].shape)));
  const s = names.map((k) => tf.tensor(golden.initial[k].s, golden.initial[k].shape));
  const c = names.map((k) => tf.tensor(golden.initial[k].c, golden.initial[k].shape));
  const step = (opt: AdamW, lr: number) => {
    const { value, grads } = tf.variableGrads(() => tf.addN(vars.map((w, i) => tf.sum(tf.add(tf.div(tf.mul(s[i]!, tf.pow(w, 3)), 3), tf.mul(c[i]!, w))))) as tf.Scalar, vars);
    opt.step(vars.map((v) => grads[v.name]!), lr);
    tf.dispose([value, ...Object.values(grads)]);
  };
  return { vars, step, dispose: () => tf.dispose([...vars, ...s, ...c]) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('AdamW matches PyTorch (golden)', () => {
  for (const c of golden.adamw) {
    it(c.name, () => {
      const p = problem();
      const opt = new AdamW(p.vars, { beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weight_decay });
      const before = tf.memory().numTensors;
      c.steps.forEach((expected, k) => {
        p.step(opt, c.lrs[k]!);
        expectClose(p.vars[0]!.dataSync(), expected.w1, 2e-6);
        expectClose(p.vars[1]!.dataSync(), expected.w2, 2e-6);
        const [m1] = opt.stateTensors();
        expectClose(m1!.tensor.dataSync(), expected.m1, 2e-6);
        expectClose(opt.stateTensors()[3]!.tensor.dataSync(), expected.v2, 2e-6);
        // No tensor leak from one step to the next.
        expect(tf.memory().numTensors).toBe(before);
      });
      opt.dispose();
      p.dispose();
    });
  }

  it('getState/stateTensors/setState round trip: a restored optimizer continues bit-identically', () => {
    const c = golden.adamw[0]!;
    const a = problem();
    const optA = new AdamW(a.vars, { weightDecay: c.weight_decay });
    for (const lr of c.lrs.slice(0, 3)) a.step(optA, lr);
    // Save as a checkpoint does (JSON state + tensor copies), restore into a fresh optimizer.
    const state = JSON.parse(JSON.stringify(optA.getState())) as Record<string, unknown>;
    const tensors = optA.stateTensors().map((t) => t.tensor.clone());
    const b = problem();
    b.vars.forEach((v, i) => v.assign(a.vars[i]!));
    const optB = new AdamW(b.vars, { weightDecay: c.weight_decay });
    optB.setState(state, tensors);
    tf.dispose(tensors);
    for (const lr of c.lrs.slice(3)) {
      a.step(optA, lr);
      b.step(optB, lr);
    }
    expect(Array.from(b.vars[0]!.dataSync())).toEqual(Array.from(a.vars[0]!.dataSync()));
    expect(Array.from(b.vars[1]!.dataSync())).toEqual(Array.from(a.vars[1]!.dataSync()));
    optA.dispose();
    optB.dispose();
    a.dispose();
    b.dispose();
  });

  it('refuses bad options and a state of the wrong size, naming them', () => {
    const p = problem();
    expect(() => new AdamW(p.vars, { beta1: 1 })).toThrow('AdamW: beta1 must be in [0, 1), got 1');
    const opt = new AdamW(p.vars);
    expect(() => opt.setState({ steps: [1] }, [])).toThrow(/expected 2 step counts and 4 moment tensors/);
    opt.dispose();
    p.dispose();
  });
});

describe('warmup-cosine matches PyTorch LambdaLR (golden)', () => {
  for (const s of golden.warmupCosine) {
    it(`lr0 ${s.initialLr}, ${s.epochs}x${s.iterationsPerEpoch}, warm-up ${s.warmupIterations}, min ${s.minLr}`, () => {
      const lrs: number[] = [];
      for (let epoch = 0; epoch < s.epochs; epoch++) {
        for (let iteration = 0; iteration < s.iterationsPerEpoch; iteration++) {
          lrs.push(warmupCosineLearningRate({ epoch, iteration, epochs: s.epochs, iterationsPerEpoch: s.iterationsPerEpoch, initialLr: s.initialLr }, s));
        }
      }
      expectClose(lrs, s.lrs, 1e-12);
    });
  }

  it('is registered by corePlugin with sgd, adamw, poly and pseudo-dice', () => {
    const e = createExperiment({ plugins: [corePlugin()] });
    expect(e.registry('optimizer').names()).toEqual(['adamw', 'sgd']);
    expect(e.registry('scheduler').names()).toEqual(['poly', 'warmup-cosine']);
    expect(e.registry('criterion').names()).toEqual(['pseudo-dice']);
    expect(() => e.get('scheduler', 'warmup-cosine').create({ warmupIterations: -1 }, e)).toThrow(/warmupIterations must be a non-negative integer/);
  });
});
