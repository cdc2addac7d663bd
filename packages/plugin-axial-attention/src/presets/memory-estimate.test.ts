import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { combineSegmentOf, createExperiment, estimateTrainingMemory } from '@voxseg/core';
import { buildPreset, unetDecoderStageOf, unetEncoderStageOf, unetPlugin } from '@voxseg/plugin-unet';
import { beforeAll, describe, expect, it } from 'vitest';
import { axialAttentionPlugin } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });

type Mode = 'plain' | 'dec' | 'enc+dec';

function estimate(variant: string, patch: number, batch: number, mode: Mode | boolean = 'plain'): number {
  const m: Mode = mode === true ? 'dec' : mode === false ? 'plain' : mode;
  const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, deepSupervision: true, initialize: false });
  const segmentOf = m === 'dec' ? unetDecoderStageOf : m === 'enc+dec' ? combineSegmentOf(unetEncoderStageOf, unetDecoderStageOf) : undefined;
  try {
    return estimateTrainingMemory(model, { batch, ...(segmentOf ? { segmentOf } : {}) }).totalMb;
  } finally {
    model.dispose();
  }
}

/**
 * Peak RSS (MB) measured on this project's 2-core machine (shared, load 2-5), native backend,
 * with the freeing backward walk and per-head attention recomputation: `voxseg bench train-step
 * --variant V --patch P --batch B --steps 1 --backend native [--checkpoint-decoder
 * [--checkpoint-encoder]] --json` (`peakRssMb`: a warm-up step and one timed step), 1 Dec 2026;
 * and BL+AA at 128^3 batch 2 with both checkpointed, the target size.
 */
const MEASURED: [variant: string, patch: number, batch: number, mode: Mode, mb: number][] = [
  ['BL', 32, 1, 'plain', 436],
  ['BL', 32, 2, 'plain', 523],
  ['BL', 48, 1, 'plain', 629],
  ['BL', 48, 2, 'plain', 859],
  ['BL', 64, 1, 'plain', 1507],
  ['BL', 64, 2, 'plain', 2063],
  ['BL', 32, 1, 'dec', 434],
  ['BL', 32, 2, 'dec', 487],
  ['BL', 48, 1, 'dec', 600],
  ['BL', 48, 2, 'dec', 851],
  ['BL', 64, 1, 'dec', 1484],
  ['BL', 64, 2, 'dec', 2032],
  ['BL+AA', 32, 1, 'plain', 475],
  ['BL+AA', 32, 2, 'plain', 603],
  ['BL+AA', 48, 1, 'plain', 749],
  ['BL+AA', 48, 2, 'plain', 1167],
  ['BL+AA', 64, 1, 'plain', 1849],
  ['BL+AA', 64, 2, 'plain', 2751],
  ['BL+AA', 32, 1, 'dec', 462],
  ['BL+AA', 32, 2, 'dec', 581],
  ['BL+AA', 48, 1, 'dec', 717],
  ['BL+AA', 48, 2, 'dec', 1109],
  ['BL+AA', 64, 1, 'dec', 1802],
  ['BL+AA', 64, 2, 'dec', 2384],
  ['BL+AA', 32, 1, 'enc+dec', 452],
  ['BL+AA', 32, 2, 'enc+dec', 552],
  ['BL+AA', 48, 1, 'enc+dec', 669],
  ['BL+AA', 48, 2, 'enc+dec', 972],
  ['BL+AA', 64, 1, 'enc+dec', 1699],
  ['BL+AA', 64, 2, 'enc+dec', 2132],
  ['BL+AA', 128, 2, 'enc+dec', 9719],
];

describe('estimateTrainingMemory (BL and BL+AA)', () => {
  // The linear model (kept elements, the largest recomputed segment, parameters) does not
  // follow the measurements from 32^3 to 128^3 to 10%: the constants minimise the worst
  // relative error over the table, which is 15% (low at 64^3, high at 128^3).
  it('matches the measured peaks within 15%', () => {
    for (const [variant, patch, batch, mode, mb] of MEASURED) {
      const e = estimate(variant, patch, batch, mode);
      expect({ variant, patch, batch, mode, ratio: Math.abs(e / mb - 1) < 0.15 }).toEqual({ variant, patch, batch, mode, ratio: true });
    }
  });

  it('grows with patch and batch, and checkpointing lowers it', () => {
    for (const variant of ['BL', 'BL+AA']) {
      const byPatch = [32, 48, 64].map((p) => estimate(variant, p, 1));
      expect(byPatch[1]!).toBeGreaterThan(byPatch[0]!);
      expect(byPatch[2]!).toBeGreaterThan(byPatch[1]!);
      expect(estimate(variant, 48, 2)).toBeGreaterThan(byPatch[1]!);
      expect(estimate(variant, 64, 2, 'enc+dec')).toBeLessThan(estimate(variant, 64, 2, true));
    }
    // With the freeing walk, checkpointing BL's decoder alone saves next to nothing (measured
    // 2032 vs 2063 MB at 64^3 batch 2), and the estimate does not claim it does; BL+AA's does.
    expect(estimate('BL+AA', 64, 2, true)).toBeLessThan(estimate('BL+AA', 64, 2));
    {
    }
  });
});
