import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/*
 * A minimal node:fs IO handler for the TensorFlow.js layers format, so models save and load
 * without tfjs-node. Local to this package because core's model IO (packages/core/src/io) had
 * not landed when this was written; switch to core's `saveModel`/`loadModel` once it exports
 * them (same file layout: model.json + weights.bin).
 */

/** Topology + weights manifest file inside a model directory (as tfjs-node's `file://` handler names it). */
export const MODEL_JSON = 'model.json';
/** Concatenated weights file inside a model directory. */
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Save handler writing `dir/model.json` and `dir/weights.bin`. The directory is written next
 * to its final place and renamed over it, so a crash never leaves a half-written model.
 */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error(`${dir}: binary (GraphDef) topologies are not supported; save a tfjs-layers model`);
    }
    const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? 'TensorFlow.js',
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
    const text = JSON.stringify(json);
    await replaceDirectory(dir, async (tmp) => {
      await writeFile(join(tmp, WEIGHTS_BIN), new Uint8Array(weights));
      await writeFile(join(tmp, MODEL_JSON), text);
    });
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: text.length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.byteLength,
      },
    };
  });
}

/** Load handler reading `dir/model.json` and the weight files it lists. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const path = join(dir, MODEL_JSON);
      if (!existsSync(path)) throw new Error(`${path}: no such file (not a saved model directory)`);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(path, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const bytes = await readFile(join(dir, p));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Write into a sibling temp directory, then swap it in for `dir` (replacing any old one). */
async function replaceDirectory(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${stamp}`);
  const old = join(parent, `.${basename(dir)}.old-${stamp}`);
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
    if (existsSync(dir)) await rename(dir, old);
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
