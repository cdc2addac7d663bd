// A separate project that installed only @voxseg/core, @voxseg/plugin-unet and
// @voxseg/plugin-losses (plus TensorFlow.js) from npm, composing a pipeline in code and
// training on in-memory data. Prints one JSON line: the first and last loss.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, Trainer, corePlugin, createExperiment, ofType } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';

await tf.setBackend('cpu');
const patch = Number(process.env.PATCH ?? 16);
const iterations = Number(process.env.ITERATIONS ?? 12);

const experiment = createExperiment({ plugins: [corePlugin(), unetPlugin(), lossesPlugin()] });
const model = buildPreset(experiment, 'BL', { inChannels: 2, outChannels: 1, patchSize: patch, baseFilters: 4, deepSupervision: true, seed: 1 });
const lossFactory = experiment.get('loss', 'deep-supervision');
const loss = lossFactory.create({ ...lossFactory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, experiment);

// In-memory data: a noisy ball; channel 0 bright inside, channel 1 dark inside; target = the ball.
const data = {
  patchShape: [patch, patch, patch, 2],
  batchSize: 2,
  targetChannels: ['ball'],
  async batch(index) {
    const rng = new Rng(`ball:${index}`);
    const n = patch ** 3;
    const image = new Float32Array(2 * n * 2);
    const target = new Uint8Array(2 * n);
    for (let b = 0; b < 2; b++) {
      const r = 2 + rng.uniform(0, patch / 4);
      const c = [rng.uniform(r, patch - r), rng.uniform(r, patch - r), rng.uniform(r, patch - r)];
      for (let d = 0, i = 0; d < patch; d++) for (let h = 0; h < patch; h++) for (let w = 0; w < patch; w++, i++) {
        const inside = (d - c[0]) ** 2 + (h - c[1]) ** 2 + (w - c[2]) ** 2 < r * r;
        image[(b * n + i) * 2] = (inside ? 1 : -1) + 0.3 * rng.normal();
        image[(b * n + i) * 2 + 1] = (inside ? -1 : 1) + 0.3 * rng.normal();
        target[b * n + i] = inside ? 1 : 0;
      }
    }
    return { image, shape: [2, patch, patch, patch, 2], target, targetChannels: 1, caseIds: [] };
  },
};

const trainer = new Trainer({ model, loss, train: data, epochs: 1, iterationsPerEpoch: iterations, seed: 1, plugins: experiment.pluginList() });
const losses = [];
trainer.events$.pipe(ofType('batchEnd')).subscribe((e) => losses.push(e.loss));
const summary = await trainer.run();
console.log(JSON.stringify({ reason: summary.reason, firstLoss: losses[0], lastLoss: losses.at(-1), plugins: experiment.pluginList().map((p) => p.name) }));
