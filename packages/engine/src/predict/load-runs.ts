import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel, type ModelMeta } from '@voxseg/core';
// Side effects: the U-Net's and axial attention's layers register for deserialisation.
import '@voxseg/plugin-unet';
import '@voxseg/plugin-axial-attention';
import { EngineError } from '../errors.js';

/** A trained model ready for inference, with what it was trained on. */
export interface RunModel {
  run: string;
  dir: string;
  model: tfl.LayersModel;
  meta: ModelMeta;
  patch: number;
  inChannels: number;
  regions: string[];
  /** The dataset the run trained on (registry name), when the model records it. */
  dataset?: string;
}

/** Where a run keeps its model, in order of preference. */
const MODEL_DIRS = ['model', 'checkpoints/final', 'checkpoints/best', 'checkpoints/last'];

/**
 * Load the model of each run folder (`<run>/model`, else its final / best / last checkpoint),
 * or a folder that directly holds `model.json`. Every model must take the same input channels.
 */
export async function loadRunModels(runs: string[]): Promise<RunModel[]> {
  const out: RunModel[] = [];
  for (const run of runs) {
    const dir = await findModelDir(run);
    let loaded;
    try {
      loaded = await loadModel(dir);
    } catch (err) {
      throw new EngineError(`${dir}: cannot load the model (${(err as Error).message})`);
    }
    const meta = loaded.meta;
    const inputShape = loaded.model.inputs[0]!.shape;
    const inChannels = Number(meta.inChannels ?? inputShape[inputShape.length - 1]);
    const options = (meta.options ?? {}) as Record<string, unknown>;
    const patch = Number(meta.patchSize ?? options.patchSize);
    if (!Number.isInteger(patch) || patch <= 0) throw new EngineError(`${dir}/model.json: no patch size in the model's metadata`);
    const regions = Array.isArray(meta.regions) ? (meta.regions as string[]) : ['WT', 'TC', 'ET'];
    const dataset = typeof meta.dataset === 'string' ? meta.dataset : undefined;
    out.push({ run, dir, model: loaded.model, meta, patch, inChannels, regions, ...(dataset ? { dataset } : {}) });
  }
  const channels = new Set(out.map((m) => m.inChannels));
  if (channels.size > 1) {
    throw new EngineError(`--run: the models take different input channels (${out.map((m) => `${m.run}: ${m.inChannels}`).join(', ')}); an ensemble needs one input`);
  }
  const regions = new Set(out.map((m) => m.regions.join(',')));
  if (regions.size > 1) {
    throw new EngineError(`--run: the models predict different regions (${out.map((m) => `${m.run}: ${m.regions.join('/')}`).join(', ')}); an ensemble averages the same channels`);
  }
  return out;
}

async function findModelDir(run: string): Promise<string> {
  const stat = await fs.stat(run).catch(() => null);
  if (!stat?.isDirectory()) throw new EngineError(`--run ${run}: not a folder`);
  if (await exists(path.join(run, 'model.json'))) return run;
  for (const sub of MODEL_DIRS) {
    const dir = path.join(run, sub);
    if (await exists(path.join(dir, 'model.json'))) return dir;
  }
  throw new EngineError(`--run ${run}: no model found (looked for ${MODEL_DIRS.join(', ')}); train it first with voxseg train`);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}
