import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type Batch, type BatchProvider, Rng, Trainer, corePlugin, createExperiment, loadModel, saveModel } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';
import { customBlockPlugin } from './plugin.js';

export interface CustomBlockExampleOptions {
  /** Cubic patch edge (default 16). */
  patch?: number;
  /** U-Net filters of the first stage (default 4). */
  baseFilters?: number;
  /** Training iterations (default 12). */
  iterations?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CustomBlockExampleResult {
  /** Layers the custom block added to the network. */
  blockLayers: string[];
  firstLoss: number;
  lastLoss: number;
  /** Max |difference| of the outputs of the trained model and the model loaded back from disk. */
  reloadMaxDiff: number;
}

/**
 * A bright cube on a noisy background; the 3 target channels are the cube, its inner half and
 * its centre voxel block (a stand-in for WT / TC / ET).
 */
function cubesProvider(patch: number, batchSize: number, seed: number): BatchProvider {
  return {
    patchShape: [patch, patch, patch, 1],
    batchSize,
    targetChannels: ['outer', 'inner', 'core'],
    async batch(index: number): Promise<Batch> {
      const rng = new Rng(`${seed}:${index}`);
      const n = patch ** 3;
      const image = new Float32Array(batchSize * n);
      const target = new Uint8Array(batchSize * n * 3);
      for (let b = 0; b < batchSize; b++) {
        const r = 2 + rng.int(Math.max(1, patch / 4));
        const c = [r + rng.int(patch - 2 * r), r + rng.int(patch - 2 * r), r + rng.int(patch - 2 * r)];
        for (let d = 0, i = 0; d < patch; d++) for (let h = 0; h < patch; h++) for (let w = 0; w < patch; w++, i++) {
          const dist = Math.max(Math.abs(d - c[0]!), Math.abs(h - c[1]!), Math.abs(w - c[2]!));
          const inside = dist < r;
          image[b * n + i] = (inside ? 1.5 : -0.5) + 0.3 * rng.normal();
          const t = (b * n + i) * 3;
          target[t] = inside ? 1 : 0;
          target[t + 1] = dist < r / 2 ? 1 : 0;
          target[t + 2] = dist < 1 ? 1 : 0;
        }
      }
      return { image, shape: [batchSize, patch, patch, patch, 1], target, targetChannels: 3, caseIds: [] };
    },
  };
}

/** Register the custom block, build a U-Net that uses it, train it a little, save and reload it. */
export async function runCustomBlockExample(options: CustomBlockExampleOptions = {}): Promise<CustomBlockExampleResult> {
  const patch = options.patch ?? 16;
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 7;
  if (tf.getBackend() === undefined) await tf.setBackend('cpu');

  // 1. An experiment with the standard plugins plus ours. No voxseg package was edited.
  const experiment = createExperiment({ plugins: [corePlugin(), unetPlugin(), lossesPlugin(), customBlockPlugin()] });

  // 2. The BL preset, with our block in the decoder slot (a config option, not a new class).
  const model = buildPreset(experiment, 'BL', {
    inChannels: 1,
    outChannels: 3,
    patchSize: patch,
    baseFilters: options.baseFilters ?? 4,
    deepSupervision: true,
    decoderBlock: 'residual-pointwise',
    seed,
  });
  const blockLayers = model.layers.map((l) => l.name).filter((n) => n.endsWith('_pointwise') || n.endsWith('_residual'));
  log(`U-Net with ${blockLayers.length / 2} residual-pointwise block(s): ${blockLayers.filter((n) => n.endsWith('_pointwise')).join(', ')}`);

  // 3. Train through the core trainer with the nnU-Net loss.
  const lossFactory = experiment.get('loss', 'deep-supervision');
  const loss = lossFactory.create({ ...lossFactory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, experiment);
  const iterations = options.iterations ?? 12;
  const trainer = new Trainer({ model, loss, train: cubesProvider(patch, 2, seed), epochs: 1, iterationsPerEpoch: iterations, seed, network: 'BL+residual-pointwise', plugins: experiment.pluginList() });
  const losses: number[] = [];
  trainer.events$.subscribe((e) => {
    if (e.type === 'batchEnd') losses.push(e.loss);
  });
  const summary = await trainer.run();
  if (summary.reason !== 'completed') throw new Error(`training ${summary.reason}: ${summary.message ?? ''}`);
  log(`loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} over ${losses.length} iterations`);

  // 4. Save and load back: the block's layers are standard, so the model round-trips.
  const dir = mkdtempSync(path.join(tmpdir(), 'voxseg-custom-block-'));
  try {
    await saveModel(model, dir, { note: 'custom block example' });
    const { model: loaded } = await loadModel(dir);
    const x = tf.randomNormal([1, patch, patch, patch, 1], 0, 1, 'float32', seed);
    const a = model.predict(x) as tf.Tensor[];
    const b = (loaded as tfl.LayersModel).predict(x) as tf.Tensor[];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a[0]!, b[0]!))));
    const reloadMaxDiff = (await diff.data())[0]!;
    tf.dispose([x, ...a, ...b, diff]);
    loaded.dispose();
    log(`reloaded model: max |output difference| ${reloadMaxDiff}`);
    return { blockLayers, firstLoss: losses[0]!, lastLoss: losses[losses.length - 1]!, reloadMaxDiff };
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
