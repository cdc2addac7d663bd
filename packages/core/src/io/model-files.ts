import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recoverDir, writeDirAtomic } from './atomic-dir.js';

/** File name of the model topology + weights manifest inside a model directory. */
export const MODEL_JSON = 'model.json';
/** File name of the concatenated weights inside a model directory. */
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Plain JSON metadata stored with a model under `userDefinedMetadata.voxseg` in `model.json`:
 * whatever is needed to rebuild or describe the network (builder name, preset, options,
 * channel names, ...). voxseg's own writers put `{ network, options, ... }` here.
 */
export type ModelMeta = Record<string, unknown>;

/** What {@link loadModel} returns. */
export interface LoadedModel {
  model: tfl.LayersModel;
  /** The `extraMeta` given to {@link saveModel} (empty object when there was none). */
  meta: ModelMeta;
}

/** The `voxseg` entry a model already carries in its user-defined metadata, if any. */
function existingMeta(artifacts: tf.io.ModelArtifacts): ModelMeta {
  const entry = (artifacts.userDefinedMetadata as Record<string, unknown> | undefined)?.voxseg;
  return entry && typeof entry === 'object' ? (entry as ModelMeta) : {};
}

/**
 * A tfjs `IOHandler` that writes `model.json` and `weights.bin` (the TensorFlow.js layers
 * format, byte-compatible with `tfjs-node`'s `file://` handler) into `dir`, using only
 * `node:fs`: it works on every backend, with or without `tfjs-node`.
 *
 * Not atomic on its own; {@link saveModel} wraps it in {@link writeDirAtomic}.
 *
 * @param dir an existing directory
 * @param meta stored under `userDefinedMetadata.voxseg`, merged over what the model already
 *   has there (`model.setUserDefinedMetadata({ voxseg: ... })`, as network builders do)
 */
export function fileSaveHandler(dir: string, meta: ModelMeta = {}): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error(`fileSaveHandler(${dir}): binary (GraphDef) topologies are not supported; save a tfjs-layers model`);
    }
    const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      // Network builders keep their own description in the model's metadata under the same key
      // (plugin-unet: network, variant, options, regions); `meta` is merged over it, never
      // replacing it, so a checkpoint still says how to rebuild the network.
      userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), voxseg: { ...existingMeta(artifacts), ...meta } as {} },
    };
    if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
    const topologyText = JSON.stringify(modelJson);
    await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
    await writeFile(join(dir, MODEL_JSON), topologyText);
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: topologyText.length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weightData.byteLength,
      },
    };
  });
}

/**
 * A tfjs `IOHandler` that loads `model.json` + its weight files from `dir` with `node:fs`.
 * Pass it to `tfl.loadLayersModel(fileLoadHandler(dir))`; {@link loadModel} does exactly that.
 */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = await readModelJson(dir);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const path of group.paths) buffers.push(await readArrayBuffer(join(dir, path)));
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/**
 * Write `model` to `dir` as `model.json` + `weights.bin` (TensorFlow.js layers format), with
 * `extraMeta` under `userDefinedMetadata.voxseg`. Atomic: `dir` is replaced as a whole
 * (see {@link writeDirAtomic}). All weights are written, trainable or not (BatchNorm moving
 * statistics included).
 */
export async function saveModel(model: tfl.LayersModel, dir: string, extraMeta: ModelMeta = {}): Promise<void> {
  await writeDirAtomic(dir, (tmp) => writeModelFiles(model, tmp, extraMeta));
}

/**
 * Write `model.json` + `weights.bin` into an existing directory, not atomically. For writers
 * that assemble a larger directory (a checkpoint) inside {@link writeDirAtomic}.
 */
export async function writeModelFiles(model: tfl.LayersModel, dir: string, extraMeta: ModelMeta = {}): Promise<void> {
  await model.save(fileSaveHandler(dir, extraMeta));
}

/**
 * Load a model written by {@link saveModel} (or by tfjs-node's `file://` handler).
 * Custom layers (e.g. GroupNormalization) must be registered with
 * `tf.serialization.registerClass` before loading, as for any tfjs model; importing the plugin
 * that defines them does that.
 *
 * @throws Error naming the directory when `model.json` is missing or malformed.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const meta = await readModelMeta(dir);
  const model = await tfl.loadLayersModel(fileLoadHandler(dir));
  return { model, meta };
}

/** The `extraMeta` stored in `dir/model.json` (empty object when there is none). */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const json = await readModelJson(dir);
  const meta = (json.userDefinedMetadata as Record<string, unknown> | undefined)?.voxseg;
  return meta && typeof meta === 'object' ? { ...(meta as ModelMeta) } : {};
}

/**
 * Copy the weights saved in `dir` into an existing model of the same architecture (resume,
 * fine-tuning). Weights are matched by position in `model.weights` (the order
 * {@link saveModel} writes them in), not by name: tfjs makes layer names unique per process,
 * so a model rebuilt in the same process has different names for the same weights. Count and
 * every shape are checked.
 *
 * @throws Error naming the directory and the first mismatching weight.
 */
export async function loadWeightsInto(model: tfl.LayersModel, dir: string): Promise<void> {
  const artifacts = await fileLoadHandler(dir).load!();
  const specs = artifacts.weightSpecs ?? [];
  const modelWeights = model.weights;
  if (specs.length !== modelWeights.length) {
    throw new Error(`${join(dir, MODEL_JSON)}: holds ${specs.length} weights, the model has ${modelWeights.length}; is it the same architecture?`);
  }
  modelWeights.forEach((w, i) => {
    const spec = specs[i]!;
    if (!sameShape(w.shape, spec.shape)) {
      throw new Error(
        `${join(dir, MODEL_JSON)}: weight ${i} ("${spec.name}") has shape [${spec.shape}], the model's "${w.originalName}" has [${w.shape}]`,
      );
    }
  });
  const decoded = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  const values = specs.map((s) => decoded[s.name]!);
  try {
    model.setWeights(values);
  } finally {
    tf.dispose(Object.values(decoded));
  }
}

/**
 * Write named tensors to `path` as raw little-endian data (the same encoding as
 * `weights.bin`) and return their manifest entries; {@link readTensorsFile} reads them back.
 * Used for optimizer state (momentum buffers) in checkpoints.
 */
export async function writeTensorsFile(path: string, tensors: { name: string; tensor: tf.Tensor }[]): Promise<tf.io.WeightsManifestEntry[]> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFile(path, new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
  return specs;
}

/** Read tensors written by {@link writeTensorsFile}; the caller owns (and disposes) them. */
export async function readTensorsFile(path: string, specs: tf.io.WeightsManifestEntry[]): Promise<tf.NamedTensorMap> {
  const buffer = await readArrayBuffer(path);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s.dtype), 0);
  if (buffer.byteLength !== expected) {
    throw new Error(`${path}: ${buffer.byteLength} bytes, expected ${expected} from its manifest; the file is truncated or not the one described`);
  }
  return tf.io.decodeWeights(buffer, specs);
}

async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  await recoverDir(dir);
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) throw new Error(`${path}: not found (expected a model directory with ${MODEL_JSON} and ${WEIGHTS_BIN})`);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${path}: not a TensorFlow.js layers model (modelTopology or weightsManifest missing)`);
  }
  return json;
}

async function readArrayBuffer(path: string): Promise<ArrayBuffer> {
  if (!existsSync(path)) throw new Error(`${path}: not found`);
  const buf = await readFile(path);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function bytesPerElement(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  if (dtype === 'complex64') return 8;
  throw new Error(`unsupported dtype ${dtype} in a tensors file`);
}
