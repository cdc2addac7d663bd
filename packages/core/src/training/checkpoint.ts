import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recoverDir, writeDirAtomic, writeDirStage } from '../io/atomic-dir.js';
import { loadWeightsInto, type ModelMeta, MODEL_JSON, readTensorsFile, WEIGHTS_BIN, writeModelFiles, writeTensorsFile } from '../io/model-files.js';
import type { RngState } from '../random/rng.js';
import type { Optimizer } from '../contracts/optimizer.js';

/** Sub-folder of the run's `outDir` that holds the checkpoints. */
export const CHECKPOINTS_DIR = 'checkpoints';
/** The trainer's plain-data state inside a checkpoint folder. */
export const TRAINER_STATE_JSON = 'trainer-state.json';
/** The optimizer's state tensors inside a checkpoint folder (raw float32, like weights.bin). */
export const OPTIMIZER_BIN = 'optimizer.bin';

/** The checkpoint kinds: `last` (each epoch and on stop), `best` (best EMA pseudo-Dice), `final`, `manual` (saveCheckpoint command). */
export type CheckpointKind = 'last' | 'best' | 'final' | 'manual';
/** Every {@link CheckpointKind}. */
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = ['last', 'best', 'final', 'manual'];

/** `<outDir>/checkpoints/<kind>`. */
export function checkpointDir(outDir: string, kind: CheckpointKind): string {
  return join(outDir, CHECKPOINTS_DIR, kind);
}

/**
 * Everything besides the weights that a resumed run needs to continue exactly where the
 * interrupted one stopped. Written as `trainer-state.json`.
 */
export interface TrainerState {
  format: 'voxseg-trainer-state';
  version: 1;
  runId: string;
  seed: number;
  /** Epoch to continue at (0-based). */
  epoch: number;
  /**
   * Iteration within `epoch` to continue at: 0 at an epoch boundary, k after a stop or
   * manual save in the middle of an epoch, `iterationsPerEpoch` when only the epoch's
   * validation and end are left.
   */
  iteration: number;
  /** Epochs fully completed (validation and epochEnd done). */
  epochsCompleted: number;
  /** Training iterations done in total (the next training batch index). */
  globalIteration: number;
  epochs: number;
  iterationsPerEpoch: number;
  valIterations: number;
  /** Sum of the training losses of `epoch` so far (for its epochEnd mean after a mid-epoch resume). */
  epochLossSum: number;
  /** Learning-rate state: the scheduler's name and settings, and a pending `setLearningRate` override. */
  scheduler: { name: string; initialLr: number; lrOverride: { lr: number; persistent: boolean } | null };
  /**
   * The optimizer's registry name (absent in checkpoints written before optimizers were
   * pluggable: those are `sgd`), its plain-data state (`Optimizer.getState()`, spread here,
   * e.g. SGD's steps, initialized, momentum, nesterov, weightDecay), and `specs` describing its
   * state tensors in {@link OPTIMIZER_BIN}.
   */
  optimizer: { name?: string; specs: tf.io.WeightsManifestEntry[]; [key: string]: unknown };
  /** State of the run's random generator. */
  rng: RngState;
  /** EMA of the mean validation pseudo-Dice (null before the first validation). */
  emaDice: number | null;
  /** Best EMA so far (the `best` checkpoint's), or null. */
  bestEmaDice: number | null;
  /** ISO time of writing. */
  savedAt: string;
}

/**
 * Write a checkpoint folder atomically: `model.json` + `weights.bin` (TensorFlow.js format,
 * loadable with `loadModel`), `optimizer.bin` (momentum buffers) and `trainer-state.json`.
 * The previous content of `dir` stays intact if anything fails.
 */
export async function writeCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  optimizer: Optimizer,
  state: Omit<TrainerState, 'optimizer' | 'savedAt' | 'format' | 'version'>,
  modelMeta: ModelMeta,
): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeModelFiles(model, tmp, modelMeta);
    await writeDirStage('filling', dir, 'model');
    const specs = await writeTensorsFile(join(tmp, OPTIMIZER_BIN), optimizer.stateTensors());
    const full: TrainerState = {
      format: 'voxseg-trainer-state',
      version: 1,
      ...state,
      optimizer: { name: optimizer.name, ...optimizer.getState(), specs },
      savedAt: new Date().toISOString(),
    };
    await writeDirStage('filling', dir, 'optimizer');
    // Written last: a folder with a trainer state has everything else.
    await writeFile(join(tmp, TRAINER_STATE_JSON), `${JSON.stringify(full, null, 1)}\n`);
  });
}

/**
 * Where a checkpoint stands in its run, from its own `trainer-state.json`: epoch *
 * (iterationsPerEpoch + 1) + iteration, so an epoch's end (`epoch + 1`, iteration 0) ranks
 * above a stop after its last iteration (`epoch`, iteration iterationsPerEpoch). Null when
 * the folder is not a complete checkpoint: a state, `model.json`, and `weights.bin` /
 * `optimizer.bin` of exactly the size their manifests describe.
 */
export async function checkpointPosition(dir: string): Promise<number | null> {
  let state: TrainerState;
  let modelJson: { weightsManifest?: { weights?: tf.io.WeightsManifestEntry[] }[] };
  try {
    state = JSON.parse(await readFile(join(dir, TRAINER_STATE_JSON), 'utf8')) as TrainerState;
    modelJson = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as typeof modelJson;
  } catch {
    return null;
  }
  if (state?.format !== 'voxseg-trainer-state' || !Number.isInteger(state.epoch) || !Number.isInteger(state.iteration)) return null;
  const weights = (modelJson.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  if (!(await hasBytes(join(dir, WEIGHTS_BIN), weights)) || !(await hasBytes(join(dir, OPTIMIZER_BIN), state.optimizer?.specs ?? []))) return null;
  return state.epoch * (state.iterationsPerEpoch + 1) + state.iteration;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1 };

async function hasBytes(file: string, specs: tf.io.WeightsManifestEntry[]): Promise<boolean> {
  const expected = specs.reduce((n, s) => n + (DTYPE_BYTES[s.dtype] ?? 4) * s.shape.reduce((a, b) => a * b, 1), 0);
  const size = await stat(file).then((st) => st.size, () => -1);
  return size === expected;
}

/**
 * Make checkpoint folder `dir` the newest complete checkpoint among it and the leftovers of
 * interrupted writes beside it (`<kind>.old-*`, `.<kind>.tmp-*`), judged by
 * {@link checkpointPosition}, never by listing order. With `clean` (the run's single writer,
 * at its start) the other leftovers are deleted. Returns whether `dir` holds a checkpoint.
 */
export async function recoverCheckpoint(dir: string, options: { clean?: boolean } = {}): Promise<boolean> {
  await recoverDir(dir, { rank: checkpointPosition, clean: options.clean ?? false });
  return (await checkpointPosition(dir)) !== null;
}

/**
 * What a crash left in `<outDir>/checkpoints`, cleaned at the start of a run: for every kind,
 * the newest complete checkpoint is kept (or put back) as `<kind>` and the leftovers are
 * deleted. Call it only while no other process writes there (the run folder's lock).
 */
export async function cleanCheckpoints(outDir: string): Promise<void> {
  const root = join(outDir, CHECKPOINTS_DIR);
  if (!existsSync(root)) return;
  for (const kind of CHECKPOINT_KINDS) await recoverCheckpoint(checkpointDir(outDir, kind), { clean: true });
}

/** Whether `dir` holds a complete checkpoint (after recovering an interrupted replace). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await recoverDir(dir, { rank: checkpointPosition })) && existsSync(join(dir, TRAINER_STATE_JSON)) && existsSync(join(dir, MODEL_JSON));
}

/** Read and check `trainer-state.json` of a checkpoint folder. */
export async function readTrainerState(dir: string): Promise<TrainerState> {
  await recoverDir(dir, { rank: checkpointPosition });
  const path = join(dir, TRAINER_STATE_JSON);
  if (!existsSync(path)) throw new Error(`${path}: not found; ${dir} is not a voxseg checkpoint`);
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(path, 'utf8')) as TrainerState;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (state?.format !== 'voxseg-trainer-state' || state.version !== 1) {
    throw new Error(`${path}: not a voxseg trainer state (format ${JSON.stringify(state?.format)}, version ${JSON.stringify(state?.version)})`);
  }
  return state;
}

/**
 * Restore a checkpoint into a model of the same architecture and its optimizer: weights
 * (by position, shapes checked) and the optimizer's state (tensors and plain data). The
 * optimizer must be the one the checkpoint was written with. Returns the trainer state for
 * the caller to restore the rest (epoch, RNG, EMA, ...).
 */
export async function restoreCheckpoint(dir: string, model: tfl.LayersModel, optimizer: Optimizer): Promise<TrainerState> {
  const state = await readTrainerState(dir);
  const saved = state.optimizer.name ?? 'sgd';
  if (saved !== optimizer.name) {
    throw new Error(`${join(dir, TRAINER_STATE_JSON)}: written with optimizer "${saved}", the run uses "${optimizer.name}"; a run resumes with the optimizer it started with`);
  }
  await loadWeightsInto(model, dir);
  const specs = state.optimizer.specs;
  const expected = optimizer.stateTensors().length;
  if (specs.length !== expected) {
    throw new Error(`${join(dir, OPTIMIZER_BIN)}: ${specs.length} optimizer tensors, the ${optimizer.name} optimizer of this model has ${expected}`);
  }
  const buffers = await readTensorsFile(join(dir, OPTIMIZER_BIN), specs);
  try {
    const { specs: _specs, name: _name, ...plain } = state.optimizer;
    optimizer.setState(plain, specs.map((s) => buffers[s.name]!));
  } finally {
    for (const t of Object.values(buffers)) t.dispose();
  }
  return state;
}
