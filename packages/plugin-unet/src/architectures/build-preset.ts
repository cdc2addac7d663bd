import type * as tfl from '@tensorflow/tfjs-layers';
import type { ExperimentContext, NetworkOptions } from '@voxseg/core';
import { updateNetworkMetadata } from '../io/network-metadata.js';

/**
 * Build a registered network variant: look up the preset, then its builder, and call it with
 * the preset's options under the caller's (`overrides` win, e.g. patch size, channels, seed).
 * The variant name is recorded in the model's metadata (see `saveNetwork`).
 *
 * @throws listing the registered presets when `variant` is unknown
 */
export function buildPreset(ctx: ExperimentContext, variant: string, overrides: NetworkOptions): tfl.LayersModel {
  const preset = ctx.get('preset', variant);
  const builder = ctx.get('network', preset.network);
  const model = builder.build({ ...preset.options, ...overrides }, ctx);
  updateNetworkMetadata(model, { variant });
  return model;
}
