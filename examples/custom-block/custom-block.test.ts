import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect, it } from 'vitest';
import { runCustomBlockExample } from './src/run-example.js';

it('a user-defined block fills the U-Net decoder slot, trains, and round-trips through save/load', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const r = await runCustomBlockExample({ patch: 16, baseFilters: 4, iterations: 10 });
  // Patch 16 -> 3 stages -> decoder stages 1 and 0; the block skips stage 0 (fromStage 1).
  expect(r.blockLayers.filter((n) => n.endsWith('_pointwise')).length).toBe(1);
  expect(r.lastLoss).toBeLessThan(r.firstLoss);
  expect(r.reloadMaxDiff).toBeLessThan(1e-5);
  expect(tf.memory().numTensors).toBe(before);
});
