import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, Trainer, ensureDir, createExperiment, dice, extractChannel, ofType, pasteIntoGrid, slidingWindowInference } from '@voxseg/core';
import { type NiftiHeader, PatchBatchProvider, da4Pipeline, readNifti, writeNifti } from '@voxseg/plugin-data-brats';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nnunetPlugin } from './plugin.js';
import { synthesizeNnunetDataset } from './synthetic/synthesize-nnunet-dataset.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'voxseg-nnunet-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// End to end through the contracts only: the dataset comes from the registry by name, the
// batches from the BraTS plugin's PatchBatchProvider (generic: it takes any Dataset's cases and
// `targets`), the network and loss from their registries, training from core's Trainer; then
// sliding-window inference and the dataset's own target decoding write an nnU-Net label file.
describe('training on an nnU-Net-format dataset', () => {
  it('trains a tiny U-Net a few iterations (finite losses, no leak) and predicts a labelled case back', async () => {
    const data = join(root, 'Dataset137_BraTS2021');
    await synthesizeNnunetDataset(data, 2, 3, { shape: [24, 24, 16], testCases: 1 });
    const exp = createExperiment({ plugins: [nnunetPlugin(), unetPlugin(), lossesPlugin()] });
    const dataset: Dataset = exp.get('dataset', 'nnunet').create({ root: data, cacheDir: false }, exp);
    const cases = await Promise.all((await dataset.caseIds()).map((id) => dataset.loadCase(id)));
    const K = dataset.targets.channels.length;
    expect(K).toBe(3);
    const train = new PatchBatchProvider({ cases, targets: dataset.targets, patchSize: [16, 16, 16], batchSize: 2, seed: 'nnunet', augmenters: da4Pipeline() });
    const model = buildPreset(exp, 'BL', { inChannels: dataset.inChannels, outChannels: K, patchSize: 16, stages: 3, baseFilters: 4, seed: 1 });
    const lossFactory = exp.get('loss', 'deep-supervision');
    const loss = lossFactory.create({ ...lossFactory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
    const trainer = new Trainer({
      model, loss, train, epochs: 1, iterationsPerEpoch: 3, seed: 1, network: 'BL',
      plugins: exp.pluginList(), targetChannels: [...dataset.targets.channels], logger: { warn: () => undefined },
    });
    const losses: number[] = [];
    const tensors: number[] = [];
    trainer.events$.pipe(ofType('batchEnd')).subscribe((e) => {
      losses.push(e.loss);
      tensors.push(tf.memory().numTensors);
    });
    const summary = await trainer.run();
    expect(summary.reason, summary.message).toBe('completed');
    expect(losses).toHaveLength(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(tensors[2]).toBe(tensors[1]);

    // Predict the imagesTs case, decode with regions_class_order, write it on the input grid.
    const test = exp.get('dataset', 'nnunet').create({ root: data, subset: 'test', cacheDir: false }, exp);
    const [id] = await test.caseIds();
    const c = await test.loadCase(id!);
    const before = tf.memory().numTensors;
    const probs = await slidingWindowInference(c.image, c.shape, (x) => model.predict(x) as tf.Tensor[], { patchSize: 16 });
    expect(tf.memory().numTensors).toBe(before);
    const [d, h, w] = c.shape;
    const labels = test.targets.decode(probs.data, [d, h, w]);
    expect(labels.every((v) => v <= 3)).toBe(true);
    const full = pasteIntoGrid(labels, c.meta.cropBox, c.meta.originalShape);
    const out = join(root, 'pred', `${id}.nii.gz`);
    await ensureDir(join(root, 'pred'));
    await writeNifti(out, full, { reference: c.meta.header as NiftiHeader, datatype: 'uint8' });
    const back = await readNifti(out, { as: 'native' });
    expect(back.shape).toEqual(c.meta.originalShape);
    expect(back.affine).toEqual(c.meta.affine);
    // Scored in region space through the same encoding (labelsTs holds the ground truth):
    // a Dice per region in [0, 1]; three iterations teach little, so no quality bar here.
    const gt = test.targets.encode(c.label!, [d, h, w]);
    const pred = test.targets.encode(labels, [d, h, w]);
    for (let k = 0; k < K; k++) {
      const score = dice(extractChannel(pred, [d, h, w], K, k), extractChannel(gt, [d, h, w], K, k));
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    model.dispose();
  });
});
