/**
 * Acceptance (issue 4): a tiny U-Net with deep supervision trains through core's Trainer with
 * the losses plugin's `deep-supervision` + `dice-bce` loss, and its loss falls.
 * Uses @voxseg/plugin-losses as a test-only peer (resolved from the workspace).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type Batch, type BatchProvider, createExperiment, Rng, Trainer, setTestBackend } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPreset } from './architectures/build-preset.js';
import { unetPlugin } from './plugin.js';

const EDGE = 16;

/**
 * Two channels of N(0, 1) noise; three nested region targets computed voxel-wise from them
 * (WT = a > 0, TC = a > 0.6, ET = TC and b > 0), something a few 3x3x3 convs learn quickly.
 * Batch `i` depends only on `i` (the BatchProvider contract).
 */
function regionsProvider(batchSize = 2): BatchProvider {
  const voxels = batchSize * EDGE ** 3;
  return {
    patchShape: [EDGE, EDGE, EDGE, 2],
    batchSize,
    targetChannels: ['WT', 'TC', 'ET'],
    async batch(index: number): Promise<Batch> {
      const rng = new Rng(`regions:${index}`);
      const image = new Float32Array(voxels * 2);
      const target = new Uint8Array(voxels * 3);
      for (let v = 0; v < voxels; v++) {
        const a = rng.normal();
        const b = rng.normal();
        image[2 * v] = a;
        image[2 * v + 1] = b;
        target[3 * v] = a > 0 ? 1 : 0;
        target[3 * v + 1] = a > 0.6 ? 1 : 0;
        target[3 * v + 2] = a > 0.6 && b > 0 ? 1 : 0;
      }
      return { image, shape: [batchSize, EDGE, EDGE, EDGE, 2], target, targetChannels: 3, caseIds: [`b${index}-0`, `b${index}-1`] };
    },
  };
}

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

describe('tiny U-Net + dice-bce with deep supervision through the core Trainer', () => {
  it('trains without leaking and the epoch loss falls', async () => {
    const exp = createExperiment({ plugins: [unetPlugin(), lossesPlugin()] });
    const model = buildPreset(exp, 'BL', { inChannels: 2, outChannels: 3, patchSize: EDGE, baseFilters: 4, rng: new Rng(1) });
    expect(model.outputs).toHaveLength(2); // deep supervision: 16^3 and 8^3 heads
    const lossFactory = exp.get('loss', 'deep-supervision');
    const loss = lossFactory.create({ ...lossFactory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
    // nnU-Net's SGD settings (momentum 0.99, Nesterov, clip 12, poly) with a larger initial LR
    // so that 18 iterations show the trend.
    const trainer = new Trainer({ model, loss, train: regionsProvider(), epochs: 3, iterationsPerEpoch: 6, initialLr: 0.02, seed: 1 });
    const epochLosses: number[] = [];
    trainer.events$.subscribe((e) => {
      if (e.type === 'epochEnd') epochLosses.push(e.trainLoss);
    });
    const tensorsBefore = tf.memory().numTensors;
    const summary = await trainer.run();
    expect(summary.reason, summary.message).toBe('completed');
    expect(epochLosses).toHaveLength(3);
    // Every epoch lower than the one before, and clearly lower at the end.
    for (let i = 1; i < epochLosses.length; i++) expect(epochLosses[i]!).toBeLessThan(epochLosses[i - 1]!);
    expect(epochLosses.at(-1)!).toBeLessThan(epochLosses[0]! - 0.03);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  });
});
