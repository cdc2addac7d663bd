import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createExperiment, Rng, setTestBackend } from '@voxseg/core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPreset } from '../architectures/build-preset.js';
import { unetPlugin } from '../plugin.js';
import { loadNetwork, saveNetwork } from './network-io.js';

const root = mkdtempSync(join(tmpdir(), 'voxseg-unet-io-'));
beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('saveNetwork / loadNetwork', () => {
  for (const variant of ['BL', 'BL+L+GN']) {
    it(`${variant} (tiny): identical outputs, BN running stats kept, config travels with the model`, async () => {
      const exp = createExperiment({ plugins: [unetPlugin()] });
      const model = buildPreset(exp, variant, { inChannels: 2, outChannels: 3, patchSize: 16, baseFilters: 4, rng: new Rng(3) });
      const x = tf.randomNormal([2, 16, 16, 16, 2], 0, 1, 'float32', 5);
      // One training-mode forward moves the BatchNorm running statistics away from 0/1.
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor[]);
      const expected = model.predict(x) as tf.Tensor[];
      const dir = join(root, variant);
      await saveNetwork(model, dir, { regions: ['WT', 'TC', 'ET'] });
      const { model: loaded, metadata } = await loadNetwork(dir);
      expect(metadata).toMatchObject({
        network: 'unet',
        variant,
        regions: ['WT', 'TC', 'ET'],
        options: { inChannels: 2, outChannels: 3, patchSize: 16, baseFilters: 4 },
      });
      expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).format).toBe('layers-model');
      const actual = loaded.predict(x) as tf.Tensor[];
      expect(actual.length).toBe(expected.length);
      actual.forEach((a, i) => expect(Array.from(a.dataSync())).toEqual(Array.from(expected[i]!.dataSync())));
      expect(loaded.weights.length).toBe(model.weights.length);
      tf.dispose([x, ...expected, ...actual]);
      model.dispose();
      loaded.dispose();
    });
  }

  it('names the directory when there is no model', async () => {
    await expect(loadNetwork(join(root, 'missing'))).rejects.toThrow(/missing/);
  });
});
