import { CliError } from '../commands/types.js';
import type { TrainRunConfig } from './train-config.js';

/**
 * Settings whose change on `--resume` breaks exactness: the resumed run would no longer be
 * the run that was started (another schedule, network, batch stream or split), so it is
 * refused unless `--force`. The others (where the data and cache live, the backend, the
 * number of data workers, skipping invalid cases, the note) may change freely.
 */
export const EXACT_SETTINGS: readonly (keyof TrainRunConfig)[] = [
  'variant', 'fold', 'folds', 'epochs', 'iterations', 'valIterations', 'batch', 'patch',
  'baseFilters', 'maxFilters', 'stages', 'seed', 'lr', 'augmentation', 'loss', 'deepSupervision',
];

/** Keys written to config.json beside the settings (not settings themselves). */
const RECORD_ONLY = ['backendSelected', 'createdAt'];

/** One setting given on resume that differs from the saved run's. */
export interface SettingChange {
  key: keyof TrainRunConfig;
  saved: unknown;
  given: unknown;
  /** Whether the change breaks exactness ({@link EXACT_SETTINGS}). */
  exact: boolean;
}

/**
 * The config of a resumed run: every saved setting, except those `given` explicitly (flags
 * on the command line, a `--config` file), never a default. A given setting that differs from
 * the saved one and breaks exactness is refused in one line naming each change (saved vs
 * given) unless `force`; the changes are returned so the caller can say what changed.
 *
 * @param saved the run's `config.json`
 * @param given only the settings the user gave (undefined fields = not given)
 */
export function resumeConfig(run: string, saved: TrainRunConfig, given: Partial<TrainRunConfig>, force: boolean): { config: TrainRunConfig; changes: SettingChange[] } {
  const base: Record<string, unknown> = { ...saved };
  for (const k of RECORD_ONLY) delete base[k];
  const changes: SettingChange[] = [];
  for (const [key, value] of Object.entries(given) as [keyof TrainRunConfig, unknown][]) {
    if (value === undefined || key === 'out') continue;
    if (JSON.stringify(value) !== JSON.stringify(base[key])) {
      changes.push({ key, saved: base[key], given: value, exact: EXACT_SETTINGS.includes(key) });
    }
    base[key] = value;
  }
  const breaking = changes.filter((c) => c.exact);
  if (breaking.length && !force) {
    throw new CliError(
      `--resume: ${run} was started with ${breaking.map((c) => `${flagName(c.key)} ${show(c.saved)}`).join(', ')}; given ${breaking.map((c) => `${flagName(c.key)} ${show(c.given)}`).join(', ')}: ` +
        'the resumed run would not be the one started; drop the flag(s) to continue it as saved, or pass --force to continue with the change',
    );
  }
  return { config: { ...(base as unknown as TrainRunConfig), out: run }, changes };
}

/** `epochs 12 -> 20, patch 16 -> 24`. */
export function describeChanges(changes: SettingChange[]): string {
  return changes.map((c) => `${flagName(c.key)} ${show(c.saved)} -> ${show(c.given)}`).join(', ');
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v);
}
