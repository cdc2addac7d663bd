/**
 * A tiny training run through core's `Trainer` on `webgpu`, against the same run on `cpu`:
 * the BL U-Net (base 4 filters, patch 16), nnU-Net's deep-supervision Dice + BCE, the default
 * SGD (Nesterov 0.99, clipping at 12, poly schedule) and validation with the pseudo-Dice. Same
 * seeded weights and batches on both backends, so the losses of every iteration must agree:
 * that checks the optimizer's and the trainer's own tensor work on webgpu (gradient clipping
 * over every variable, momentum, weight decay, the pseudo-Dice counts) and that every read on
 * the training path is asynchronous (`dataSync()` throws on webgpu in Node).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Batch, type BatchProvider, createExperiment, Rng, type TrainingEvent, Trainer } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';
import { afterAll, describe, expect, it } from 'vitest';
import { webgpuForTests } from '../__tests__/webgpu-test-env.js';

const status = await webgpuForTests();
const PATCH = 16;
const ITERATIONS = 3;

/**
 * Seeded batches: 4 channels of N(0,1) noise; targets WT = channel 0 > 0, TC = > 0.5,
 * ET = > 1 (nested, as BraTS regions are). Batch `i` depends only on (seed, i).
 */
function provider(seed: number): BatchProvider {
  const voxels = PATCH ** 3;
  return {
    patchShape: [PATCH, PATCH, PATCH, 4],
    batchSize: 1,
    targetChannels: ['WT', 'TC', 'ET'],
    async batch(index: number): Promise<Batch> {
      const rng = new Rng(`${seed}:${index}`);
      const image = new Float32Array(voxels * 4);
      const target = new Uint8Array(voxels * 3);
      for (let v = 0; v < voxels; v++) {
        for (let c = 0; c < 4; c++) image[4 * v + c] = rng.normal();
        const x = image[4 * v]!;
        target[3 * v] = x > 0 ? 1 : 0;
        target[3 * v + 1] = x > 0.5 ? 1 : 0;
        target[3 * v + 2] = x > 1 ? 1 : 0;
      }
      return { image, shape: [1, PATCH, PATCH, PATCH, 4], target, targetChannels: 3, caseIds: [`synthetic-${index}`] };
    },
  };
}

interface RunResult {
  losses: number[];
  validation: TrainingEvent<'validationEnd'>;
  leaked: number;
}

async function train(backend: string): Promise<RunResult> {
  await tf.setBackend(backend);
  const exp = createExperiment({ plugins: [unetPlugin(), lossesPlugin()] });
  const model = buildPreset(exp, 'BL', { inChannels: 4, outChannels: 3, patchSize: PATCH, baseFilters: 4, rng: new Rng(7) });
  const factory = exp.get('loss', 'deep-supervision');
  const loss = factory.create({ ...factory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 1e-5 } }, exp);
  const before = tf.memory().numTensors;
  const trainer = new Trainer({
    model,
    loss,
    train: provider(1),
    val: provider(2),
    epochs: 1,
    iterationsPerEpoch: ITERATIONS,
    valIterations: 1,
    seed: 5,
    runId: `trainer-${backend}`,
    logger: { warn: () => undefined },
  });
  const events: TrainingEvent[] = [];
  trainer.events$.subscribe((e) => events.push(e));
  const summary = await trainer.run();
  const end = events.at(-1) as TrainingEvent<'runEnd'>;
  expect(summary.reason, `${backend}: ${end.message ?? ''}`).toBe('completed');
  const leaked = tf.memory().numTensors - before;
  model.dispose();
  return {
    losses: events.filter((e): e is TrainingEvent<'batchEnd'> => e.type === 'batchEnd').map((e) => e.loss),
    validation: events.find((e): e is TrainingEvent<'validationEnd'> => e.type === 'validationEnd')!,
    leaked,
  };
}

describe.skipIf(!status.available)('Trainer on webgpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it(`trains BL for ${ITERATIONS} iterations with cpu's losses, validates, leaks nothing`, { timeout: 900_000 }, async () => {
    const cpu = await train('cpu');
    const gpu = await train('webgpu');
    expect(gpu.losses).toHaveLength(ITERATIONS);
    for (let i = 0; i < ITERATIONS; i++) {
      expect(Number.isFinite(gpu.losses[i]), `iteration ${i}`).toBe(true);
      // Same weights and batches: only float32 summation order differs between the backends,
      // amplified a little by each SGD step (momentum 0.99).
      expect(Math.abs(gpu.losses[i]! - cpu.losses[i]!) / Math.abs(cpu.losses[i]!), `iteration ${i}: ${gpu.losses[i]} vs ${cpu.losses[i]}`).toBeLessThan(1e-3);
    }
    expect(Math.abs(gpu.validation.loss - cpu.validation.loss) / Math.abs(cpu.validation.loss)).toBeLessThan(1e-3);
    for (const region of ['WT', 'TC', 'ET']) {
      const d = gpu.validation.dice[region]!;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1);
      // The pseudo-Dice thresholds each voxel: one voxel on the other side of 0.5 moves it by ~1e-3.
      expect(Math.abs(d - cpu.validation.dice[region]!), region).toBeLessThan(0.02);
    }
    expect(gpu.leaked).toBe(cpu.leaked);
  });
});
