import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createExperiment } from '../container/experiment.js';
import { corePlugin } from '../core-plugin.js';
import { polyLearningRate, polyScheduler } from './poly-scheduler.js';
import { PseudoDiceAccumulator } from './pseudo-dice.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('poly scheduler', () => {
  it("matches nnU-Net's poly_lr: initial_lr * (1 - epoch / max_epochs) ** 0.9", () => {
    // Reference values computed by hand: 0.5^0.9 = 0.535886731268146, 0.001^0.9 = 0.001995262314968879.
    expect(polyLearningRate(0.01, 0, 1000)).toBe(0.01);
    expect(polyLearningRate(0.01, 500, 1000)).toBeCloseTo(0.01 * 0.535886731268146, 15);
    expect(polyLearningRate(0.01, 999, 1000)).toBeCloseTo(0.01 * 0.001995262314968879, 15);
    expect(polyLearningRate(0.01, 1000, 1000)).toBe(0);
    expect(polyLearningRate(0.01, 1200, 1000)).toBe(0);
    const s = polyScheduler();
    expect(s.learningRate({ epoch: 500, iteration: 17, epochs: 1000, iterationsPerEpoch: 250, initialLr: 0.01 })).toBe(polyLearningRate(0.01, 500, 1000));
  });
});

describe('PseudoDiceAccumulator', () => {
  it('sums tp/fp/fn over batches, per region, NaN for regions empty everywhere', async () => {
    // Two channels; channel 0: batch 1 pred [1,1,0,0] vs target [1,0,1,0] -> tp1 fp1 fn1;
    // batch 2 pred [1,0,0,0] vs [1,0,0,0] -> tp1. Total tp2 fp1 fn1 -> 4/6. Channel 1 empty.
    const acc = new PseudoDiceAccumulator(['WT', 'ET']);
    const batch = async (pred: number[], target: number[]) => {
      const logits = tf.tensor5d(pred.flatMap((p) => [p ? 3 : -3, -3]), [1, 1, 2, 2, 2]);
      const y = tf.tensor5d(target.flatMap((t) => [t, 0]), [1, 1, 2, 2, 2]);
      const counts = PseudoDiceAccumulator.counts(logits, y);
      acc.add(await counts.data());
      tf.dispose([logits, y, counts]);
    };
    await batch([1, 1, 0, 0], [1, 0, 1, 0]);
    await batch([1, 0, 0, 0], [1, 0, 0, 0]);
    const { dice, meanDice } = acc.result();
    expect(dice.WT).toBeCloseTo(4 / 6, 12);
    expect(dice.ET).toBeNaN();
    expect(meanDice).toBeCloseTo(4 / 6, 12);
    expect(new PseudoDiceAccumulator(['A']).result().meanDice).toBeNaN();
  });

  it('thresholds sigmoid at 0.5 exclusively (logit 0 is background)', async () => {
    const acc = new PseudoDiceAccumulator(['A']);
    const logits = tf.tensor5d([0, 0], [1, 1, 1, 2, 1]);
    const y = tf.tensor5d([1, 0], [1, 1, 1, 2, 1]);
    const counts = PseudoDiceAccumulator.counts(logits, y);
    expect(Array.from(await counts.data())).toEqual([0, 0, 1]);
    tf.dispose([logits, y, counts]);
    expect(acc.regions).toEqual(['A']);
  });
});

describe('corePlugin', () => {
  it('registers poly and the metrics; registering twice is harmless', () => {
    const experiment = createExperiment({ plugins: [corePlugin(), corePlugin()] });
    expect(experiment.registry('scheduler').names()).toEqual(['poly', 'warmup-cosine']);
    expect(experiment.registry('metric').names()).toEqual(expect.arrayContaining(['dice', 'hd95', 'sensitivity', 'specificity']));
    const poly = experiment.get('scheduler', 'poly').create({}, experiment);
    expect(poly.learningRate({ epoch: 0, iteration: 0, epochs: 10, iterationsPerEpoch: 1, initialLr: 0.01 })).toBe(0.01);
    expect(createExperiment().use(corePlugin()).pluginList()).toEqual([{ name: '@voxseg/core', version: '0.1.0' }]);
  });
});
