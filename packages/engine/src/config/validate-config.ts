import { EngineError } from '../errors.js';
import { type ComponentConfig, defaultExperimentConfig, type ExperimentConfig, type InferenceConfig, type TrainingConfig } from './experiment-config.js';

/**
 * A component in a layer: `name` may be left out to keep the component the earlier layers
 * chose and only set options (what `--cache-dir` or `--data-workers` do).
 */
export interface ComponentLayer {
  name?: string;
  options: Record<string, unknown>;
}

type ComponentKey = 'dataset' | 'network' | 'loss' | 'optimizer' | 'scheduler' | 'criterion' | 'sampler';

/** A config layer: any subset of the keys (what a file or the CLI flags give). */
export type ConfigLayer = {
  [K in keyof ExperimentConfig]?: K extends 'training' ? Partial<TrainingConfig> : K extends 'inference' ? Partial<InferenceConfig> : K extends ComponentKey ? ComponentLayer : ExperimentConfig[K];
};

const COMPONENT_KEYS = ['dataset', 'network', 'loss', 'optimizer', 'scheduler', 'criterion', 'sampler'] as const;
const LIST_KEYS = ['augmentation', 'metrics'] as const;
const TOP_KEYS = [...COMPONENT_KEYS, ...LIST_KEYS, 'inference', 'training', 'plugins', 'note', 'run'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Check a parsed JSON value as a config layer and return it typed. Every problem is one line
 * that names `source` and the key path (`training.epochs: expected a positive integer, got
 * 0`). Component names are not checked here (the registries do that, listing what exists).
 */
export function parseConfigLayer(value: unknown, source: string): ConfigLayer {
  const fail = (path: string, msg: string): never => {
    throw new EngineError(`${source}: ${path}: ${msg}`);
  };
  if (!isObject(value)) fail('(top level)', `expected a JSON object, got ${show(value)}`);
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) fail(key, `unknown key; expected one of ${TOP_KEYS.join(', ')}`);
  }
  const component = (x: unknown, path: string): ComponentConfig => {
    if (typeof x === 'string' && x) return { name: x, options: {} };
    if (!isObject(x)) return fail(path, `expected { "name": "...", "options": { ... } } or a name, got ${show(x)}`);
    for (const k of Object.keys(x)) if (k !== 'name' && k !== 'options') fail(`${path}.${k}`, 'unknown key; expected name, options');
    if (typeof x.name !== 'string' || !x.name) fail(`${path}.name`, `expected a registry name, got ${show(x.name)}`);
    if (x.options !== undefined && !isObject(x.options)) fail(`${path}.options`, `expected an object, got ${show(x.options)}`);
    return { name: x.name as string, options: (x.options as Record<string, unknown>) ?? {} };
  };
  // `run` is the record a run adds to its config.json (backend, plugin versions, time): not an input.
  const out: ConfigLayer = {};
  for (const key of COMPONENT_KEYS) if (v[key] !== undefined) out[key] = component(v[key], key);
  for (const key of LIST_KEYS) {
    if (v[key] === undefined) continue;
    if (!Array.isArray(v[key])) fail(key, `expected a list of components, got ${show(v[key])}`);
    out[key] = (v[key] as unknown[]).map((c, i) => component(c, `${key}[${i}]`));
  }
  if (v.plugins !== undefined) {
    if (!Array.isArray(v.plugins) || v.plugins.some((p) => typeof p !== 'string' || !p)) fail('plugins', `expected a list of module names or paths, got ${show(v.plugins)}`);
    out.plugins = [...(v.plugins as string[])];
  }
  if (v.note !== undefined) {
    if (typeof v.note !== 'string') fail('note', `expected a string, got ${show(v.note)}`);
    out.note = v.note as string;
  }
  const defaults = defaultExperimentConfig();
  for (const section of ['training', 'inference'] as const) {
    const s = v[section];
    if (s === undefined) continue;
    if (!isObject(s)) fail(section, `expected an object, got ${show(s)}`);
    const known = Object.keys(defaults[section]);
    for (const k of Object.keys(s as object)) if (!known.includes(k)) fail(`${section}.${k}`, `unknown key; expected one of ${known.join(', ')}`);
    (out as Record<string, unknown>)[section] = { ...(s as object) };
  }
  checkValues(out, fail);
  return out;
}

/** Range checks of the numeric settings (on a layer or on a whole config). */
function checkValues(c: ConfigLayer, fail: (path: string, msg: string) => never): void {
  const t = c.training ?? {};
  const int = (k: keyof TrainingConfig, min: number) => {
    const x = t[k];
    if (x !== undefined && (!Number.isInteger(x) || (x as number) < min)) fail(`training.${k}`, `expected ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${show(x)}`);
  };
  for (const k of ['epochs', 'iterations', 'batch', 'patch', 'folds'] as const) int(k, 1);
  for (const k of ['valIterations', 'fold'] as const) int(k, 0);
  if (t.seed !== undefined && !Number.isInteger(t.seed)) fail('training.seed', `expected an integer, got ${show(t.seed)}`);
  if (t.splitSeed !== undefined && !Number.isInteger(t.splitSeed)) fail('training.splitSeed', `expected an integer, got ${show(t.splitSeed)}`);
  if (t.patch !== undefined && t.patch < 8) fail('training.patch', `expected at least 8, got ${t.patch}`);
  if (t.lr !== undefined && !(typeof t.lr === 'number' && t.lr > 0 && Number.isFinite(t.lr))) fail('training.lr', `expected a positive number, got ${show(t.lr)}`);
  if (t.clipNorm !== undefined && t.clipNorm !== null && !(typeof t.clipNorm === 'number' && t.clipNorm > 0)) fail('training.clipNorm', `expected a positive number or null, got ${show(t.clipNorm)}`);
  if (t.backend !== undefined && (typeof t.backend !== 'string' || !t.backend)) fail('training.backend', `expected a backend name, got ${show(t.backend)}`);
  if (t.skipInvalid !== undefined && typeof t.skipInvalid !== 'boolean') fail('training.skipInvalid', `expected true or false, got ${show(t.skipInvalid)}`);
  if (t.checkpointDecoder !== undefined && typeof t.checkpointDecoder !== 'boolean') fail('training.checkpointDecoder', `expected true or false, got ${show(t.checkpointDecoder)}`);
  if (t.checkpointEncoder !== undefined && typeof t.checkpointEncoder !== 'boolean') fail('training.checkpointEncoder', `expected true or false, got ${show(t.checkpointEncoder)}`);
  if (t.memoryCheck !== undefined && typeof t.memoryCheck !== 'boolean') fail('training.memoryCheck', `expected true or false, got ${show(t.memoryCheck)}`);
  const i = c.inference ?? {};
  if (i.step !== undefined && !(typeof i.step === 'number' && i.step > 0 && i.step <= 1)) fail('inference.step', `expected a number in (0, 1], got ${show(i.step)}`);
  if (i.threshold !== undefined && !(typeof i.threshold === 'number' && i.threshold > 0 && i.threshold < 1)) fail('inference.threshold', `expected a number in (0, 1), got ${show(i.threshold)}`);
  if (i.tta !== undefined && typeof i.tta !== 'boolean') fail('inference.tta', `expected true or false, got ${show(i.tta)}`);
  if (i.windowBatchSize !== undefined && !(Number.isInteger(i.windowBatchSize) && i.windowBatchSize >= 1)) fail('inference.windowBatchSize', `expected a positive integer, got ${show(i.windowBatchSize)}`);
  if (i.precision !== undefined && i.precision !== 'fp32' && i.precision !== 'bf16') fail('inference.precision', `expected fp32 or bf16, got ${show(i.precision)}`);
  if (i.postprocess !== undefined && i.postprocess !== false && !isObject(i.postprocess)) fail('inference.postprocess', `expected an object of options or false, got ${show(i.postprocess)}`);
}

/**
 * Merge layers over the published defaults, later layers winning. A component given again with
 * the same name has its options merged (shallow) over the earlier ones; with another name it
 * replaces them. Lists (`augmentation`, `metrics`, `plugins`) are replaced whole. The result is
 * checked as a whole (e.g. `training.fold < training.folds`).
 * @param source what to name in errors about the merged result (e.g. the config file)
 */
export function resolveExperimentConfig(layers: readonly ConfigLayer[], source = 'config'): ExperimentConfig {
  const c = defaultExperimentConfig();
  for (const layer of layers) {
    for (const key of COMPONENT_KEYS) {
      const next = layer[key];
      if (!next) continue;
      const name = next.name ?? c[key].name;
      c[key] = name === c[key].name ? { name, options: { ...c[key].options, ...next.options } } : { name, options: { ...next.options } };
    }
    for (const key of LIST_KEYS) if (layer[key]) c[key] = layer[key]!.map((x) => ({ name: x.name, options: { ...x.options } }));
    if (layer.plugins) c.plugins = [...layer.plugins];
    if (layer.note !== undefined) c.note = layer.note;
    if (layer.training) for (const [k, v] of Object.entries(layer.training)) if (v !== undefined) (c.training as unknown as Record<string, unknown>)[k] = v;
    if (layer.inference) for (const [k, v] of Object.entries(layer.inference)) if (v !== undefined) (c.inference as unknown as Record<string, unknown>)[k] = v;
  }
  const fail = (path: string, msg: string): never => {
    throw new EngineError(`${source}: ${path}: ${msg}`);
  };
  checkValues(c, fail);
  if (c.training.fold >= c.training.folds) fail('training.fold', `expected 0..${c.training.folds - 1} (training.folds is ${c.training.folds}), got ${c.training.fold}`);
  return c;
}
