import type { ConfigLayer } from './validate-config.js';

/**
 * Training settings in the flat spelling that both the CLI's shorthand flags
 * (`--data`, `--variant`, `--epochs`, ...) and the old flat `config.json` use: one home for
 * their names and types, and one mapping onto the experiment config ({@link flatSettingsToLayer}).
 */
export interface FlatTrainSettings {
  /** `dataset.options.root`. */
  data?: string;
  /** `network.name` (a preset, e.g. `BL+L+GN`). */
  variant?: string;
  /** `training.fold`. */
  fold?: number;
  /** `training.folds`. */
  folds?: number;
  /** `training.epochs`. */
  epochs?: number;
  /** `training.iterations`. */
  iterations?: number;
  /** `training.valIterations`. */
  valIterations?: number;
  /** `training.batch`. */
  batch?: number;
  /** `training.patch`. */
  patch?: number;
  /** `network.options.baseFilters`. */
  baseFilters?: number;
  /** `network.options.maxFilters`. */
  maxFilters?: number;
  /** `network.options.stages`. */
  stages?: number;
  /** `training.seed`. */
  seed?: number;
  /** `training.backend`. */
  backend?: string;
  /** `training.lr`. */
  lr?: number;
  /** `network.options.deepSupervision`. */
  deepSupervision?: boolean;
  /** `training.skipInvalid`. */
  skipInvalid?: boolean;
  /** `sampler.options.workers`. */
  dataWorkers?: number;
  /** `dataset.options.cacheDir`. */
  cacheDir?: string;
}

/** The `training` keys that {@link FlatTrainSettings} spells the same way. */
const FLAT_TRAINING_KEYS = ['fold', 'folds', 'epochs', 'iterations', 'valIterations', 'batch', 'patch', 'seed', 'backend', 'lr', 'skipInvalid'] as const;

/**
 * The experiment-config layer of flat settings: only what is defined is set (a layer overrides
 * only what it names); components keep the name another layer gives them, except `network`
 * with `variant`.
 */
export function flatSettingsToLayer(flat: FlatTrainSettings): ConfigLayer {
  const layer: ConfigLayer = {};
  const training: NonNullable<ConfigLayer['training']> = {};
  for (const k of FLAT_TRAINING_KEYS) if (flat[k] !== undefined) (training as Record<string, unknown>)[k] = flat[k];
  if (Object.keys(training).length) layer.training = training;
  const dataset: Record<string, unknown> = {};
  if (flat.data !== undefined) dataset.root = flat.data;
  if (flat.cacheDir !== undefined) dataset.cacheDir = flat.cacheDir;
  if (Object.keys(dataset).length) layer.dataset = { options: dataset };
  const network: Record<string, unknown> = {};
  if (flat.deepSupervision !== undefined) network.deepSupervision = flat.deepSupervision;
  for (const k of ['baseFilters', 'maxFilters', 'stages'] as const) if (flat[k] !== undefined) network[k] = flat[k];
  if (flat.variant !== undefined || Object.keys(network).length) layer.network = { ...(flat.variant !== undefined ? { name: flat.variant } : {}), options: network };
  if (flat.dataWorkers !== undefined) layer.sampler = { options: { workers: flat.dataWorkers } };
  return layer;
}

/**
 * The flat `config.json` written by voxseg before the experiment config existed
 * (`{ data, out, variant, epochs, ..., augmentation: 'da4' | 'none', dataWorkers, ... }`).
 * Read only, so runs started then can still be resumed.
 */
export interface LegacyRunConfig extends FlatTrainSettings {
  out?: string;
  augmentation?: 'da4' | 'none';
  loss?: { batchDice: boolean; smooth: number };
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
  const flat = flatSettingsToLayer(old);
  // Those runs named no components: the BraTS dataset, a preset (BL unless given), the patch sampler.
  const layer: ConfigLayer = {
    dataset: { name: 'brats2021', options: flat.dataset?.options ?? {} },
    network: { name: old.variant ?? 'BL', options: flat.network?.options ?? {} },
    training: flat.training ?? {},
  };
  if (old.augmentation === 'none') layer.augmentation = [];
  if (old.loss) layer.loss = { name: 'deep-supervision', options: { loss: 'dice-bce', lossOptions: { ...old.loss } } };
  if (old.dataWorkers !== undefined) layer.sampler = { name: 'patch', options: { workers: old.dataWorkers } };
  if (old.note !== undefined) layer.note = old.note;
  return layer;
}
