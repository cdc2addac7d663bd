import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Batch, type BatchProvider, createExperiment, ofType, Rng, Trainer } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, countTrainableParams, unetPlugin } from '@voxseg/plugin-unet';
import { AxialAttention3D, axialAttentionPlugin } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Reference figure: scripts/param_count.py (an independent PyTorch model of docs/method.md's
// BL + axial-attention decoder) prints {"BL": 31198176, "BL+AA": 50561760, ...}.
const BL_AA_128 = 50_561_760;
const BL_128 = 31_198_176;

/** A python3 that has torch (Debian's python3-torch), or null: CI has none, the test skips. */
function pythonWithTorch(): string | null {
  for (const exe of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(exe, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return exe;
  }
  return null;
}
const PYTHON = pythonWithTorch();
if (!PYTHON) console.warn('plugin-axial-attention: python3 with torch not found; skipping the live PyTorch parameter count');

/** Attention parameters of one block: posemb C*(D+H+W) + 3 axes x (q, k, v, out kernel, out bias). */
const blockParams = (c: number, edge: number, hd: number) => 3 * c * edge + 3 * (4 * c * hd + c);

describe('axialAttentionPlugin', () => {
  it('declares the U-Net plugin as a dependency: without it, one line naming it', () => {
    expect(() => createExperiment({ plugins: [axialAttentionPlugin()] })).toThrow(
      'Plugin "@voxseg/plugin-axial-attention" needs "@voxseg/plugin-unet", which is not registered; add it to the experiment before "@voxseg/plugin-axial-attention"',
    );
  });

  it('registers the block and the BL+AA preset; twice is harmless', () => {
    const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
    expect(exp.registry('block').has('axial-attention')).toBe(true);
    expect(exp.registry('network').has('unet')).toBe(true);
    expect(exp.get('preset', 'BL+AA')).toMatchObject({ network: 'unet', options: { decoderBlock: 'axial-attention' } });
    // BL+AA is BL plus the decoder block, nothing else.
    const { decoderBlock, ...rest } = exp.get('preset', 'BL+AA').options;
    expect(rest).toEqual(exp.get('preset', 'BL').options);
    expect(decoderBlock).toBe('axial-attention');
    exp.use(unetPlugin()).use(axialAttentionPlugin());
    // Running register() again on the same registries (a differently named copy, so the
    // experiment does not skip it) re-registers the same objects: no duplicate-name error.
    const other = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
    other.use({ ...axialAttentionPlugin(), name: 'axial-again' }).use({ ...unetPlugin(), name: 'unet-again' });
    expect(other.registry('preset').names()).toEqual(['BL', 'BL+AA', 'BL+GN', 'BL+L', 'BL+L+GN']);
  });

  it(`BL+AA at 128^3, 4 in, 3 out has exactly ${BL_AA_128.toLocaleString('en')} trainable parameters`, () => {
    const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
    const before = tf.memory().numTensors;
    const model = buildPreset(exp, 'BL+AA', { inChannels: 4, outChannels: 3, patchSize: 128, initialize: false });
    expect(countTrainableParams(model)).toBe(BL_AA_128);
    // Same figure from the formula on top of BL: stages 4..1 at 8, 16, 32, 64 with C 320, 256, 128, 64.
    const attention =
      blockParams(320, 8, 32 * 128) + blockParams(256, 16, 16 * 64) + blockParams(128, 32, 8 * 32) + blockParams(64, 64, 4 * 16);
    expect(BL_128 + attention).toBe(BL_AA_128);
    const attn = model.layers.filter((l): l is AxialAttention3D => l instanceof AxialAttention3D);
    expect(attn.map((l) => [l.name, l.heads, l.dimHead])).toEqual([
      ['dec4_slot_axial_attention', 32, 128],
      ['dec3_slot_axial_attention', 16, 64],
      ['dec2_slot_axial_attention', 8, 32],
      ['dec1_slot_axial_attention', 4, 16],
    ]);
    expect(model.outputs.map((o) => o.shape.slice(1))).toEqual([128, 64, 32, 16, 8].map((e) => [e, e, e, 3]));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!PYTHON)('agrees with the PyTorch count of scripts/param_count.py, run live (128^3 and 64^3)', () => {
    const script = fileURLToPath(new URL('../scripts/param_count.py', import.meta.url));
    const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
    for (const patch of [128, 64]) {
      const r = spawnSync(PYTHON!, [script, '--patch', String(patch), '--in-channels', '4'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const torch = JSON.parse(r.stdout.trim().split('\n').pop()!) as { BL: number; 'BL+AA': number };
      for (const variant of ['BL', 'BL+AA'] as const) {
        const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, initialize: false });
        expect(countTrainableParams(model), `${variant} at ${patch}^3`).toBe(torch[variant]);
        model.dispose();
      }
    }
  });

  // Training needs the conv3dTranspose gradient that @voxseg/plugin-unet registers on import.
  it('a tiny BL+AA trains through the core Trainer (finite losses, attention weights move, no leaks) and round-trips', async () => {
    const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin(), lossesPlugin()] });
    const model = buildPreset(exp, 'BL+AA', {
      inChannels: 2,
      outChannels: 3,
      patchSize: 16,
      stages: 3,
      baseFilters: 4,
      seed: 1,
      decoderBlockOptions: { seed: 1 },
    });
    // stages 16, 8, 4: only the 8^3 decoder stage (d = 1) gets attention, 4 heads x 16 on 8 channels.
    const attn = model.layers.filter((l): l is AxialAttention3D => l instanceof AxialAttention3D);
    expect(attn.map((l) => [l.name, l.heads, l.dimHead])).toEqual([['dec1_slot_axial_attention', 4, 16]]);

    // Deterministic batches: 2 random channels; targets WT/TC/ET = channel 0 above 0 / 0.5 / 1.
    const edge = 16;
    const voxels = 2 * edge ** 3;
    const train: BatchProvider = {
      patchShape: [edge, edge, edge, 2],
      batchSize: 2,
      targetChannels: ['WT', 'TC', 'ET'],
      async batch(index: number): Promise<Batch> {
        const rng = new Rng(`aa:${index}`);
        const image = Float32Array.from({ length: voxels * 2 }, () => rng.normal());
        const target = new Uint8Array(voxels * 3);
        for (let v = 0; v < voxels; v++) [0, 0.5, 1].forEach((t, k) => (target[3 * v + k] = image[2 * v]! > t ? 1 : 0));
        return { image, shape: [2, edge, edge, edge, 2], target, targetChannels: 3, caseIds: [`a${index}`, `b${index}`] };
      },
    };
    const lossFactory = exp.get('loss', 'deep-supervision');
    const trainer = new Trainer({
      model,
      loss: lossFactory.create({ ...lossFactory.defaults }, exp),
      train,
      epochs: 1,
      iterationsPerEpoch: 3,
      seed: 1,
      network: 'BL+AA',
      plugins: exp.pluginList(),
      logger: { warn: (m: string) => console.warn(m) },
    });
    const losses: number[] = [];
    const tensorsAtBatchEnd: number[] = [];
    trainer.events$.pipe(ofType('batchEnd')).subscribe((e) => {
      losses.push(e.loss);
      tensorsAtBatchEnd.push(tf.memory().numTensors);
    });
    const attnBefore = attn[0]!.getWeights()[0]!.dataSync().slice();
    const summary = await trainer.run();
    expect(summary.reason, summary.message).toBe('completed');
    expect(losses).toHaveLength(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(tensorsAtBatchEnd[2]).toBe(tensorsAtBatchEnd[1]);
    const attnAfter = attn[0]!.getWeights()[0]!.dataSync();
    expect(Math.max(...Array.from(attnAfter, (v, i) => Math.abs(v - attnBefore[i]!)))).toBeGreaterThan(0);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const batch = await train.batch(99);
    const x = tf.tensor5d(batch.image, batch.shape);
    const a = model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    expect(tf.max(tf.abs(tf.sub(a[0]!, b[0]!))).arraySync()).toBe(0);
    tf.dispose([x, ...a, ...b]);
    model.dispose();
    loaded.dispose();
  });
});
