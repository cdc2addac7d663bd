/**
 * A full U-Net training step on `webgpu` against the same step on `cpu`: the loss within 1e-4
 * relative of cpu, and every gradient within 1e-3. Same seeded weights, input and targets on both backends; nnU-Net's
 * deep-supervision Dice + BCE loss from @voxseg/plugin-losses (a test-only peer).
 *
 * Small widths (base 4 filters) keep SwiftShader's time down; the network is otherwise the
 * preset's: every conv, norm, LeakyReLU, transposed conv and head, and for BL+AA the
 * axial-attention blocks and their softmax.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createExperiment, Rng } from '@voxseg/core';
import { axialAttentionPlugin } from '@voxseg/plugin-axial-attention';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';
import { afterAll, describe, expect, it } from 'vitest';
import { relError, seeded, webgpuForTests } from '../__tests__/webgpu-test-env.js';

const status = await webgpuForTests();
/**
 * Patch edge: 32, the size the comparison is specified at (with the direct convolutions for few
 * channels, SwiftShader runs the pair in minutes); `VOXSEG_WEBGPU_STEP_PATCH=16` for a quicker run.
 */
const PATCH = Number(process.env.VOXSEG_WEBGPU_STEP_PATCH ?? 32);

interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
  leaked: number;
}

async function trainingStep(backend: string, variant: string): Promise<StepResult> {
  await tf.setBackend(backend);
  const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin(), lossesPlugin()] });
  const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: PATCH, baseFilters: 4, rng: new Rng(7) });
  const factory = exp.get('loss', 'deep-supervision');
  const loss = factory.create({ ...factory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
  const x = seeded([1, PATCH, PATCH, PATCH, 4], 11);
  const target = tf.tidy(() => tf.cast(tf.greater(seeded([1, PATCH, PATCH, PATCH, 3], 12), 0.3), 'float32'));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const outs = ([] as tf.Tensor[]).concat(model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[]);
    return loss.compute(outs, [target]);
  }, vars);
  const result: StepResult = { loss: (await value.data())[0]!, grads: new Map(), leaked: 0 };
  for (const [name, g] of Object.entries(grads)) result.grads.set(name, new Float32Array(await g.data()));
  tf.dispose([value, ...Object.values(grads)]);
  // Only the BatchNorm running statistics may be replaced (same count): nothing else stays.
  result.leaked = tf.memory().numTensors - before;
  tf.dispose([x, target]);
  model.dispose();
  return result;
}

describe.skipIf(!status.available)('a U-Net training step on webgpu matches cpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const variant of ['BL', 'BL+AA']) {
    it(`${variant} at patch ${PATCH}: loss within 1e-4 relative, every gradient within 1e-3`, { timeout: 600_000 }, async () => {
      const cpu = await trainingStep('cpu', variant);
      const gpu = await trainingStep('webgpu', variant);
      expect(Number.isFinite(gpu.loss)).toBe(true);
      expect(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-4);
      // Variable names carry a global counter; pair the gradients by order instead.
      const c = [...cpu.grads.values()];
      const g = [...gpu.grads.values()];
      expect(g.length).toBe(c.length);
      // Each gradient relative to its own largest value, floored at 1e-3 of the step's largest
      // gradient: the bias of a conv followed by batch norm has an exact gradient of 0, where
      // both backends return float32 rounding noise (~1e-9) that no relative test can compare.
      const globalMax = Math.max(...c.map((cv) => cv.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      const worst = c.map((cv, i) => relError(g[i]!, cv, 1e-3 * globalMax));
      expect(Math.max(...worst), `worst gradient (index ${worst.indexOf(Math.max(...worst))} of ${worst.length})`).toBeLessThan(1e-3);
      expect(gpu.leaked).toBe(cpu.leaked);
    });
  }
});
