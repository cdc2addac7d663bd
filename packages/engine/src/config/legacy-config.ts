import type { ConfigLayer } from './validate-config.js';

/**
 * The flat `config.json` written by voxseg before the experiment config existed
 * (`{ data, out, variant, epochs, ..., augmentation: 'da4' | 'none', dataWorkers, ... }`).
 * Read only, so runs started then can still be resumed.
 */
export interface LegacyRunConfig {
  data?: string;
  out?: string;
  variant?: string;
  fold?: number;
  folds?: number;
  epochs?: number;
  iterations?: number;
  valIterations?: number;
  batch?: number;
  patch?: number;
  baseFilters?: number;
  maxFilters?: number;
  stages?: number;
  seed?: number;
  backend?: string;
  lr?: number;
  augmentation?: 'da4' | 'none';
  loss?: { batchDice: boolean; smooth: number };
  deepSupervision?: boolean;
  skipInvalid?: boolean;
  dataWorkers?: number;
  cacheDir?: string;
  note?: string;
}

const LEGACY_ONLY = ['data', 'out', 'variant', 'epochs', 'iterations', 'valIterations', 'batch', 'patch', 'dataWorkers', 'deepSupervision', 'baseFilters'];

/** True when a parsed config.json is the old flat form (it has flat training keys and no `training` section). */
export function isLegacyConfig(value: unknown): value is LegacyRunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return !keys.includes('training') && keys.some((k) => LEGACY_ONLY.includes(k));
}

/** The experiment-config layer equivalent to an old flat config (its run folder `out` is not part of it). */
export function legacyConfigToLayer(old: LegacyRunConfig): ConfigLayer {
  const network: Record<string, unknown> = {};
  if (old.deepSupervision !== undefined) network.deepSupervision = old.deepSupervision;
  for (const k of ['baseFilters', 'maxFilters', 'stages'] as const) if (old[k] !== undefined) network[k] = old[k];
  const training: NonNullable<ConfigLayer['training']> = {};
  for (const k of ['fold', 'folds', 'epochs', 'iterations', 'valIterations', 'batch', 'patch', 'seed', 'backend', 'lr', 'skipInvalid'] as const) {
    if (old[k] !== undefined) (training as Record<string, unknown>)[k] = old[k];
  }
  const dataset: Record<string, unknown> = {};
  if (old.data !== undefined) dataset.root = old.data;
  if (old.cacheDir !== undefined) dataset.cacheDir = old.cacheDir;
  const layer: ConfigLayer = {
    dataset: { name: 'brats2021', options: dataset },
    network: { name: old.variant ?? 'BL', options: network },
    training,
  };
  if (old.augmentation === 'none') layer.augmentation = [];
  if (old.loss) layer.loss = { name: 'deep-supervision', options: { loss: 'dice-bce', lossOptions: { ...old.loss } } };
  if (old.dataWorkers !== undefined) layer.sampler = { name: 'patch', options: { workers: old.dataWorkers } };
  if (old.note !== undefined) layer.note = old.note;
  return layer;
}
