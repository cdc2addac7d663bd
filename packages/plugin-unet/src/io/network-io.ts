import type * as tfl from '@tensorflow/tfjs-layers';
// Side effects: the custom layers and gradient must be registered before a model loads.
import '../gradients/conv3d-transpose-grad.js';
import '../layers/batch-normalization-5d.js';
import '../layers/conv3d-bias.js';
import '../layers/group-normalization.js';
import '../layers/instance-normalization.js';
import { loadModel, saveModel } from '@voxseg/core';
import { type NetworkMetadata, readNetworkMetadata, updateNetworkMetadata } from './network-metadata.js';

/**
 * Save a network in TensorFlow.js's layers format (`dir/model.json` + `dir/weights.bin`)
 * through a `node:fs` IO handler (no tfjs-node needed; the directory is replaced
 * atomically). The network's metadata (builder, variant, options: channels, patch, ...) is
 * stored with it, with `extra` merged over it (e.g. `{ regions: ['WT', 'TC', 'ET'] }`).
 */
export async function saveNetwork(model: tfl.LayersModel, dir: string, extra: Partial<NetworkMetadata> = {}): Promise<void> {
  const meta = { ...readNetworkMetadata(model), ...extra };
  updateNetworkMetadata(model, meta);
  // core's saveModel writes the directory atomically and stores `meta` under the same
  // `voxseg` metadata key this package uses.
  await saveModel(model, dir, meta);
}

/** A loaded network and the metadata saved with it. */
export interface LoadedNetwork {
  model: tfl.LayersModel;
  metadata: NetworkMetadata;
}

/**
 * Load a network written by {@link saveNetwork}: same topology, weights (BatchNorm running
 * statistics included) and metadata.
 *
 * @throws naming `dir` when it holds no model, or a model without voxseg network metadata
 */
export async function loadNetwork(dir: string): Promise<LoadedNetwork> {
  const { model } = await loadModel(dir);
  const meta = readNetworkMetadata(model);
  if (typeof meta?.network !== 'string') {
    model.dispose();
    throw new Error(`${dir}/model.json: no voxseg network metadata (userDefinedMetadata.voxseg.network is missing)`);
  }
  return { model, metadata: meta };
}
