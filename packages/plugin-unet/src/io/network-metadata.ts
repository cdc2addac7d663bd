import type * as tfl from '@tensorflow/tfjs-layers';

/** Key of voxseg's entry in a model's `userDefinedMetadata`. */
export const NETWORK_METADATA_KEY = 'voxseg';

/**
 * What travels with a saved network (in `model.json`'s `userDefinedMetadata.voxseg`) so it can
 * be rebuilt, checked against data, and used for inference without the run's config.
 */
export interface NetworkMetadata {
  /** Builder name, e.g. `unet`. */
  network: string;
  /** Preset name when built from one, e.g. `BL+L+GN`. */
  variant?: string;
  /** The builder options as JSON (inChannels, outChannels, patchSize, widths, norm, ...). */
  options: Record<string, unknown>;
  /** Names of the output channels in order, e.g. `['WT', 'TC', 'ET']`. */
  regions?: string[];
  /** Anything else a caller adds (e.g. the run id). */
  [key: string]: unknown;
}

/** The model's voxseg metadata, or undefined when it has none. */
export function readNetworkMetadata(model: tfl.LayersModel): NetworkMetadata | undefined {
  const all = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  return all?.[NETWORK_METADATA_KEY] as NetworkMetadata | undefined;
}

/** Merge `patch` into the model's voxseg metadata (other keys of the user metadata are kept). */
export function updateNetworkMetadata(model: tfl.LayersModel, patch: Partial<NetworkMetadata>): void {
  const all = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const current = (all[NETWORK_METADATA_KEY] ?? {}) as Partial<NetworkMetadata>;
  model.setUserDefinedMetadata({ ...all, [NETWORK_METADATA_KEY]: { ...current, ...patch } });
}
