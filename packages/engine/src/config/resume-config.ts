import { EngineError } from '../errors.js';
import type { ExperimentConfig } from './experiment-config.js';
import { type ConfigLayer, resolveExperimentConfig } from './validate-config.js';

/**
 * Settings that may change on `--resume` without breaking exactness (where the data and the
 * cache live, the backend, how many threads prepare batches, skipping invalid cases,
 * inference settings, the note, plugin paths). Every other setting changes the run that was
 * started (another schedule, network, batch stream or split), so a change is refused unless
 * `force`. Key paths, a trailing `.` meaning "everything below".
 */
export const FREE_ON_RESUME: readonly string[] = ['dataset.options.', 'training.backend', 'training.skipInvalid', 'training.checkpointDecoder', 'training.checkpointEncoder', 'training.memoryCheck', 'sampler.options.workers', 'inference.', 'note', 'plugins'];

/** CLI flags of the config's key paths, for messages in the user's words. */
const FLAGS: Record<string, string> = {
  'training.epochs': '--epochs', 'training.iterations': '--iterations', 'training.valIterations': '--val-iterations',
  'training.batch': '--batch', 'training.patch': '--patch', 'training.seed': '--seed', 'training.lr': '--lr',
  'training.fold': '--fold', 'training.folds': '--folds', 'training.backend': '--backend', 'training.skipInvalid': '--skip-invalid', 'training.checkpointDecoder': '--checkpoint-decoder', 'training.checkpointEncoder': '--checkpoint-encoder', 'training.memoryCheck': '--no-memory-check',
  'network.name': '--variant', 'network.options.baseFilters': '--base-filters', 'network.options.maxFilters': '--max-filters',
  'network.options.stages': '--stages', 'network.options.deepSupervision': '--deep-supervision', augmentation: '--augmentation',
  'sampler.options.workers': '--data-workers', 'dataset.options.root': '--data', 'dataset.options.cacheDir': '--cache-dir',
};

/** One setting given on resume that differs from the saved run's. */
export interface SettingChange {
  /** Key path in the experiment config, e.g. `training.epochs`. */
  key: string;
  saved: unknown;
  given: unknown;
  /** Whether the change breaks exactness (not in {@link FREE_ON_RESUME}). */
  exact: boolean;
}

/** Every leaf setting a layer gives, as key path -> value (lists and names count as leaves). */
function leaves(layer: ConfigLayer | ExperimentConfig): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined || key === 'run') continue;
    if (Array.isArray(value) || typeof value !== 'object' || value === null) {
      out.set(key, value);
      continue;
    }
    const v = value as Record<string, unknown>;
    if ('options' in v || 'name' in v) {
      if (v.name !== undefined) out.set(`${key}.name`, v.name);
      for (const [k, x] of Object.entries((v.options ?? {}) as Record<string, unknown>)) if (x !== undefined) out.set(`${key}.options.${k}`, x);
    } else {
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out.set(`${key}.${k}`, x);
    }
  }
  return out;
}

/**
 * The config of a resumed run: the saved one, with only what the user gave explicitly (`given`:
 * a `--config` file's layer, the flags' layer; never defaults) on top. A given setting that
 * differs from the saved one and breaks exactness is refused in one line naming each change
 * (saved vs given) unless `force`; the changes are returned so the caller can say what changed.
 */
export function resumeConfig(run: string, saved: ConfigLayer, given: readonly ConfigLayer[], force: boolean): { config: ExperimentConfig; changes: SettingChange[] } {
  const base = resolveExperimentConfig([saved], `${run}/config.json`);
  const before = leaves(base);
  const after = new Map<string, unknown>();
  for (const layer of given) for (const [k, v] of leaves(layer)) after.set(k, v);
  const changes: SettingChange[] = [];
  for (const [key, value] of after) {
    // `auto` means "what the run detected": never a change.
    if (key === 'dataset.name' && value === 'auto') continue;
    if (JSON.stringify(value) === JSON.stringify(before.get(key))) continue;
    changes.push({ key, saved: before.get(key), given: value, exact: !FREE_ON_RESUME.some((f) => (f.endsWith('.') ? key.startsWith(f) : key === f)) });
  }
  const breaking = changes.filter((c) => c.exact);
  if (breaking.length && !force) {
    throw new EngineError(
      `--resume: ${run} was started with ${breaking.map((c) => `${flagName(c.key)} ${show(c.saved)}`).join(', ')}; given ${breaking.map((c) => `${flagName(c.key)} ${show(c.given)}`).join(', ')}: ` +
        'the resumed run would not be the one started; drop the flag(s) to continue it as saved, or pass --force to continue with the change',
    );
  }
  const layers = given.map((l) => (l.dataset?.name === 'auto' ? { ...l, dataset: { options: l.dataset.options } } : l));
  return { config: resolveExperimentConfig([saved, ...layers], `${run}/config.json`), changes };
}

/** `--epochs 12 -> 20, --patch 16 -> 24`. */
export function describeChanges(changes: readonly SettingChange[]): string {
  return changes.map((c) => `${flagName(c.key)} ${show(c.saved)} -> ${show(c.given)}`).join(', ');
}

function flagName(key: string): string {
  return FLAGS[key] ?? key;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v);
}
