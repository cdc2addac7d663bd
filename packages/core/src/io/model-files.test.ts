import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toyModel, weightsOf } from '../training/__tests__/toy-problem.js';
import { recoverDir, writeDirAtomic } from './atomic-dir.js';
import { loadModel, loadWeightsInto, readModelMeta, readTensorsFile, saveModel, writeTensorsFile } from './model-files.js';

const root = mkdtempSync(join(tmpdir(), 'voxseg-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('saveModel / loadModel', () => {
  it('round trip: same topology, weights, outputs and metadata (deep-supervision model)', async () => {
    const model = toyModel(3, true);
    const dir = join(root, 'model-a');
    await saveModel(model, dir, { network: 'toy', options: { filters: 4 } });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const { model: loaded, meta } = await loadModel(dir);
    expect(meta).toEqual({ network: 'toy', options: { filters: 4 } });
    expect(await readModelMeta(dir)).toEqual(meta);
    expect(weightsOf(loaded)).toEqual(weightsOf(model));
    const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, 'float32', 4);
    const a = model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    expect(b).toHaveLength(2);
    expect(Array.from(b[1]!.dataSync())).toEqual(Array.from(a[1]!.dataSync()));
    tf.dispose([x, ...a, ...b]);
    loaded.dispose();
    model.dispose();
  });

  it("merges extraMeta over the model's own voxseg metadata instead of replacing it", async () => {
    const model = toyModel(3);
    model.setUserDefinedMetadata({ voxseg: { network: 'unet', variant: 'BL', options: { stages: 3 } }, other: { keep: true } });
    const dir = join(root, 'model-meta');
    await saveModel(model, dir, { runId: 'r1', variant: 'BL+L' });
    expect(await readModelMeta(dir)).toEqual({ network: 'unet', variant: 'BL+L', options: { stages: 3 }, runId: 'r1' });
    const { model: loaded } = await loadModel(dir);
    expect(loaded.getUserDefinedMetadata()).toMatchObject({ other: { keep: true } });
    loaded.dispose();
    model.dispose();
  });

  it('loadWeightsInto a rebuilt model (other layer names) matches by position, no leak', async () => {
    const source = toyModel(5);
    const dir = join(root, 'model-b');
    await saveModel(source, dir);
    const target = toyModel(6);
    expect(weightsOf(target)).not.toEqual(weightsOf(source));
    const before = tf.memory().numTensors;
    await loadWeightsInto(target, dir);
    expect(tf.memory().numTensors).toBe(before);
    expect(weightsOf(target)).toEqual(weightsOf(source));
    const other = toyModel(6, true);
    await expect(loadWeightsInto(other, dir)).rejects.toThrow(/model-b\/model.json: holds 4 weights, the model has 6/);
  });

  it('replacing a model directory is atomic: a failing writer leaves the old one intact', async () => {
    const dir = join(root, 'model-c');
    await saveModel(toyModel(1), dir, { version: 1 });
    await expect(
      writeDirAtomic(dir, async (tmp) => {
        writeFileSync(join(tmp, 'model.json'), '{"half":');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readModelMeta(dir)).toEqual({ version: 1 });
    expect(readdirSync(root).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('recoverDir restores a directory left aside by an interrupted replace', async () => {
    const dir = join(root, 'model-d');
    await saveModel(toyModel(1), dir, { v: 'old' });
    renameSync(dir, `${dir}.old-12345`);
    expect(existsSync(dir)).toBe(false);
    expect(await readModelMeta(dir)).toEqual({ v: 'old' });
    expect(await recoverDir(join(root, 'never-written'))).toBe(false);
  });

  it('bad inputs give one clear message naming the file', async () => {
    const dir = join(root, 'broken');
    mkdirSync(dir);
    await expect(loadModel(dir)).rejects.toThrow(/broken\/model.json: not found/);
    writeFileSync(join(dir, 'model.json'), '{oops');
    await expect(loadModel(dir)).rejects.toThrow(/broken\/model.json: not valid JSON/);
    writeFileSync(join(dir, 'model.json'), '{"a":1}');
    await expect(loadModel(dir)).rejects.toThrow(/not a TensorFlow.js layers model/);
  });
});

describe('writeTensorsFile / readTensorsFile', () => {
  it('round trip and truncation check', async () => {
    const path = join(root, 'tensors.bin');
    const a = tf.tensor([1.5, -2, 3.25], [3]);
    const b = tf.tensor([[1, 2], [3, 4]]);
    const specs = await writeTensorsFile(path, [{ name: 'a', tensor: a }, { name: 'b/c', tensor: b }]);
    const back = await readTensorsFile(path, specs);
    expect(Array.from(back.a!.dataSync())).toEqual([1.5, -2, 3.25]);
    expect(back['b/c']!.shape).toEqual([2, 2]);
    tf.dispose([a, b, ...Object.values(back)]);
    truncateSync(path, 8);
    await expect(readTensorsFile(path, specs)).rejects.toThrow(/tensors.bin: 8 bytes, expected 28/);
  });
});
