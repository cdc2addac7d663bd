import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createExperiment, estimateTrainingMemory } from '@voxseg/core';
import { buildPreset, unetDecoderStageOf, unetPlugin } from '@voxseg/plugin-unet';
import { beforeAll, describe, expect, it } from 'vitest';
import { axialAttentionPlugin } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });

function estimate(variant: string, patch: number, batch: number, checkpoint = false): number {
  const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, deepSupervision: true, initialize: false });
  try {
    return estimateTrainingMemory(model, { batch, ...(checkpoint ? { segmentOf: unetDecoderStageOf } : {}) }).totalMb;
  } finally {
    model.dispose();
  }
}

/**
 * Peak RSS (MB) measured on this project's 2-core machine, native backend, with
 * `/usr/bin/time -f %M voxseg bench train-step --variant V --patch P --batch B --steps 1
 * --backend native` (a warm-up step and one timed step), 30 Nov 2026; and the one 128^3 figure
 * the issue reports (BL+AA batch 1: 19.6 GB).
 */
const MEASURED: [variant: string, patch: number, batch: number, mb: number][] = [
  ['BL', 32, 1, 460],
  ['BL', 32, 2, 548],
  ['BL', 48, 1, 685],
  ['BL', 48, 2, 1032],
  ['BL', 64, 1, 1690],
  ['BL', 64, 2, 2350],
  ['BL+AA', 32, 1, 572],
  ['BL+AA', 32, 2, 751],
  ['BL+AA', 48, 1, 1069],
  ['BL+AA', 48, 2, 1815],
  ['BL+AA', 64, 1, 2609],
  ['BL+AA', 64, 2, 4572],
  ['BL+AA', 128, 1, 19.6 * 1024],
];

describe('estimateTrainingMemory (BL and BL+AA)', () => {
  it('matches the measured peaks within 10%', () => {
    for (const [variant, patch, batch, mb] of MEASURED) {
      const e = estimate(variant, patch, batch);
      expect({ variant, patch, batch, ratio: Math.abs(e / mb - 1) < 0.1 }).toEqual({ variant, patch, batch, ratio: true });
    }
  });

  it('grows with patch and batch, and checkpointing the decoder lowers it', () => {
    for (const variant of ['BL', 'BL+AA']) {
      const byPatch = [32, 48, 64].map((p) => estimate(variant, p, 1));
      expect(byPatch[1]!).toBeGreaterThan(byPatch[0]!);
      expect(byPatch[2]!).toBeGreaterThan(byPatch[1]!);
      expect(estimate(variant, 48, 2)).toBeGreaterThan(byPatch[1]!);
      expect(estimate(variant, 64, 2, true)).toBeLessThan(estimate(variant, 64, 2));
    }
  });
});
