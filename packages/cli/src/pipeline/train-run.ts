import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BackendSelection,
  type BatchProvider,
  type CaseData,
  type Dataset,
  type Experiment,
  type TrainingEvent,
  type TrainingSummary,
  Trainer,
  recoverDir,
  selectBackend,
  writeEventsJsonl,
} from '@voxseg/core';
import {
  BratsDataset,
  PatchBatchProvider,
  WorkerBatchProvider,
  da4Specs,
  da4Pipeline,
  kFoldSplits,
  readSplits,
  selectValidCases,
  writeSplits,
} from '@voxseg/plugin-data-brats';
import { buildPreset, countTrainableParams } from '@voxseg/plugin-unet';
import type { Observable } from 'rxjs';
import { CliError } from '../commands/types.js';
import { writeRunReport } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Logger } from '../util/logger.js';
import { createProgress, type Progress } from '../util/progress.js';
import { reportTrainingProgress } from '../util/training-progress.js';
import { evaluateCasesInMemory } from './validate-fold.js';
import { createCliExperiment } from './experiment.js';
import { describeChanges, resumeConfig } from './resume-config.js';
import { lockRunFolder, prepareRunFolder } from './run-folder.js';
import type { TrainRunConfig } from './train-config.js';

/** What {@link trainRun} returns. */
export interface TrainRunResult {
  summary: TrainingSummary;
  backend: BackendSelection;
  /** The final model folder (`<run>/model`), when the run completed. */
  modelDir?: string;
  /** Held-out (fold validation) mean metrics, when the run completed. */
  metrics?: Record<string, { dice: number; hd95: number }>;
  reportHtml?: string;
  /** The run was stopped by Ctrl-C (SIGINT): unfinished, resumable; the CLI exits 130. */
  interrupted?: boolean;
}

export interface TrainRunOptions {
  resume?: boolean;
  /**
   * Without `resume`: start over in a folder that holds a run (moved aside). With `resume`:
   * accept given settings that differ from the saved run's (see `resumeConfig`).
   */
  force?: boolean;
  /**
   * The settings the user gave explicitly (flags, a config file); on resume only these
   * override the saved config. Default: the whole `config` counts as given.
   */
  given?: Partial<TrainRunConfig>;
  logger: Logger;
  /** Extra subscriber (examples, tests). */
  onEvents?: (events$: Observable<TrainingEvent>) => void;
  /** Use this experiment instead of the CLI's default one. */
  experiment?: Experiment;
}

/**
 * Train one fold as the CLI's `voxseg train` does: validate the data folder, split it into
 * folds (`splits.json`), load and preprocess the fold's cases, build the preset network, train
 * with the nnU-Net loop (events to `events.jsonl`, checkpoints), then predict the fold's
 * validation cases with the final model (sliding window), write `metrics.json`, the curves and
 * `report.html`.
 */
export async function trainRun(config: TrainRunConfig, options: TrainRunOptions): Promise<TrainRunResult> {
  // One writer per run folder: a second train, cv or predict into it is refused.
  const lock = lockRunFolder(config.out, { command: 'train', logger: options.logger });
  try {
    return await trainRunLocked(config, options);
  } finally {
    lock.release();
  }
}

async function trainRunLocked(config: TrainRunConfig, options: TrainRunOptions): Promise<TrainRunResult> {
  const { logger } = options;
  const run = config.out;
  const prepared = await prepareRunFolder(run, { resume: options.resume, force: options.force });
  if (prepared.movedTo) logger.warn(`--force: the previous run in ${run} was moved to ${prepared.movedTo}`);
  if (prepared.resumed) {
    const saved = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as TrainRunConfig;
    const resumed = resumeConfig(run, saved, options.given ?? config, options.force ?? false);
    config = resumed.config;
    if (resumed.changes.some((c) => c.exact)) logger.warn(`--force: resuming ${run} with changed settings (${describeChanges(resumed.changes)}); it will not match an uninterrupted run`);
    else if (resumed.changes.length) logger.info(`resuming ${run} with ${describeChanges(resumed.changes)}`);
    logger.info(`resuming ${run} with its saved settings (--epochs ${config.epochs}, --patch ${config.patch}, --variant ${config.variant})`);
  }
  await cleanRunLeftovers(run);

  const backend = await selectBackend(config.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });

  // Data: validate everything first, so bad input is reported before minutes of work.
  const dataset = await openDataset(config, logger);
  const ids = await dataset.caseIds();
  const splitsFile = path.join(run, 'splits.json');
  const splits = prepared.resumed ? await readSplits(splitsFile) : kFoldSplits(ids, { folds: config.folds, seed: 12345 });
  if (!prepared.resumed) await writeSplits(splitsFile, splits);
  const split = splits[config.fold];
  if (!split) throw new CliError(`--fold ${config.fold}: splits.json has ${splits.length} folds`);
  if (split.train.length === 0) throw new CliError(`${config.data}: fold ${config.fold} has no training cases (${ids.length} cases in all)`);
  if (!prepared.resumed) {
    await writeFileAtomic(path.join(run, 'config.json'), JSON.stringify({ ...config, backendSelected: backend.name, createdAt: new Date().toISOString() }, null, 2) + '\n');
  }

  const trainCases = await loadCases(dataset, split.train, 'load train cases', logger);
  const valCases = split.val.length ? await loadCases(dataset, split.val, 'load validation cases', logger) : [];
  const channels = dataset.inChannels;
  const patch: [number, number, number] = [config.patch, config.patch, config.patch];
  const train: BatchProvider =
    config.dataWorkers > 0
      ? new WorkerBatchProvider({
          cases: trainCases,
          targets: dataset.targets,
          patchSize: patch,
          batchSize: config.batch,
          seed: `${config.seed}:train`,
          augmentation: config.augmentation === 'da4' ? da4Specs() : [],
          workers: config.dataWorkers,
        })
      : new PatchBatchProvider({
          cases: trainCases,
          targets: dataset.targets,
          patchSize: patch,
          batchSize: config.batch,
          seed: `${config.seed}:train`,
          augmenters: config.augmentation === 'da4' ? da4Pipeline() : [],
        });
  const val = valCases.length
    ? new PatchBatchProvider({ cases: valCases, targets: dataset.targets, patchSize: patch, batchSize: config.batch, seed: `${config.seed}:val` })
    : undefined;

  const experiment = options.experiment ?? createCliExperiment();
  const regions = [...dataset.targets.channels];
  const networkOptions = {
    inChannels: channels,
    outChannels: regions.length,
    patchSize: config.patch,
    deepSupervision: config.deepSupervision,
    seed: config.seed,
    ...(config.baseFilters !== undefined ? { baseFilters: config.baseFilters } : {}),
    ...(config.maxFilters !== undefined ? { maxFilters: config.maxFilters } : {}),
    ...(config.stages !== undefined ? { stages: config.stages } : {}),
  };
  let model;
  try {
    model = buildPreset(experiment, config.variant, networkOptions);
  } catch (err) {
    throw new CliError(`--variant ${config.variant}: ${(err as Error).message}`);
  }
  const lossFactory = experiment.get('loss', 'deep-supervision');
  const loss = lossFactory.create({ ...lossFactory.defaults, loss: 'dice-bce', lossOptions: config.loss }, experiment);

  const trainer = new Trainer({
    model,
    loss,
    train,
    ...(val ? { val } : {}),
    epochs: config.epochs,
    iterationsPerEpoch: config.iterations,
    valIterations: config.valIterations,
    initialLr: config.lr,
    outDir: run,
    // The final model is copied inside the run, before runEnd: a failed copy is the run's error.
    modelDir: path.join(run, 'model'),
    resume: prepared.resumed,
    seed: config.seed,
    network: config.variant,
    backend: backend.name,
    plugins: experiment.pluginList(),
    targetChannels: regions,
    modelMeta: { network: 'unet', variant: config.variant, options: networkOptions, regions, patchSize: config.patch, inChannels: channels },
    logger: { warn: (m: string) => logger.warn(m) },
  });
  const writer = writeEventsJsonl(trainer.events$, path.join(run, 'events.jsonl'));
  const progress = reportTrainingProgress(trainer.events$, { logger });
  options.onEvents?.(trainer.events$);
  // Ctrl-C stops cleanly: the current iteration finishes and `last` is written (resume later).
  let interrupted = false;
  const onSigint = () => {
    logger.warn('interrupt: stopping after this iteration (resume with --resume)');
    interrupted = true;
    trainer.stop('interrupted');
  };
  process.once('SIGINT', onSigint);
  let summary: TrainingSummary;
  try {
    summary = await trainer.run();
  } finally {
    process.off('SIGINT', onSigint);
    progress.unsubscribe();
    await writer.close();
    await train.dispose?.();
  }
  logger.info(`parameters: ${countTrainableParams(model).toLocaleString('en-US')}`);
  const result: TrainRunResult = { summary, backend, ...(interrupted && summary.reason === 'stopped' ? { interrupted } : {}) };
  if (summary.reason !== 'completed') {
    model.dispose();
    result.reportHtml = (await writeRunReport(run)).html;
    if (summary.reason === 'error') throw new CliError(`training failed: ${summary.message ?? 'unknown error'} (events in ${path.join(run, 'events.jsonl')})`);
    return result;
  }

  // The trainer wrote the final model to its own folder, for `voxseg predict --run`.
  result.modelDir = path.join(run, 'model');

  if (valCases.length) {
    const metrics = await evaluateCasesInMemory(model, valCases, dataset, { patch: config.patch, logger });
    await writeFileAtomic(path.join(run, 'metrics.json'), JSON.stringify({ cases: metrics.cases, mean: metrics.mean }, null, 2) + '\n');
    result.metrics = metrics.mean;
  }
  model.dispose();
  result.reportHtml = (await writeRunReport(run)).html;
  logger.info(`report: ${result.reportHtml}`);
  return result;
}

async function openDataset(config: TrainRunConfig, logger: Logger): Promise<Dataset> {
  const stat = await fs.stat(config.data).catch(() => null);
  if (!stat?.isDirectory()) throw new CliError(`--data ${config.data}: not a folder`);
  let bar: Progress | undefined;
  const dataset = new BratsDataset({
    root: config.data,
    ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}),
    onWarning: (m) => logger.warn(m),
    onProgress: (_phase, done) => bar?.update(done),
  });
  const cases = await dataset.caseFiles().catch((err: Error) => {
    throw new CliError(`${err.message}; see voxseg check --data ${config.data}`);
  });
  if (cases.size === 0) {
    throw new CliError(`--data ${config.data}: no BraTS cases found (expected <id>/<id>_{t1,t1ce,t2,flair}.nii.gz); see voxseg check --data ${config.data}`);
  }
  bar = createProgress({ label: 'validate', total: cases.size, unit: 'cases' });
  // Validate everything first, so bad input is reported before minutes of work; cases with
  // a fresh preprocessed-cache entry are known valid and not read again.
  let selection;
  try {
    selection = await dataset.selectCases(true);
  } finally {
    bar.stop();
  }
  const { valid, skipped } = selection;
  if (skipped.length && !config.skipInvalid) {
    throw new CliError(
      `--data ${config.data}: ${skipped.length} invalid case(s) (${skipped.slice(0, 3).map((s) => s.id).join(', ')}${skipped.length > 3 ? ', ...' : ''}); run voxseg check --data ${config.data} for the list, or pass --skip-invalid`,
    );
  }
  for (const s of skipped) logger.warn(`skipping invalid case ${s.id}: ${s.reasons[0] ?? 'invalid'}`);
  const labelled = valid.filter((id) => cases.get(id)?.seg);
  if (labelled.length < valid.length) logger.warn(`${valid.length - labelled.length} case(s) without _seg are not used for training`);
  // The fold split runs over the valid, labelled cases only.
  return {
    name: dataset.name,
    inChannels: dataset.inChannels,
    targets: dataset.targets,
    caseIds: async () => labelled,
    loadCase: (id) => dataset.loadCase(id),
  };
}

async function loadCases(dataset: Dataset, ids: string[], label: string, logger: Logger): Promise<CaseData[]> {
  const bar = createProgress({ label, total: ids.length, unit: 'cases' });
  const out: CaseData[] = [];
  try {
    for (const id of ids) {
      out.push(await dataset.loadCase(id));
      bar.increment(1, id);
    }
  } finally {
    bar.stop();
  }
  logger.debug(`${label}: ${ids.length} cases, tf tensors alive ${tf.memory().numTensors}`);
  return out;
}

/**
 * What a crash of an earlier process left in the run folder (the folder is locked, so no
 * other writer is at work): temporary folders of the final model copy (`model.tmp-*`,
 * `.model.tmp-*`, `model.old-*`) and temporary files of atomic writes (`.<name>.<pid>.<time>.tmp`).
 * Checkpoint leftovers are the trainer's to clean (it keeps the newest complete one).
 */
async function cleanRunLeftovers(run: string): Promise<void> {
  await recoverDir(path.join(run, 'model'), { clean: true });
  for (const name of await fs.readdir(run)) {
    if (/^model\.tmp-\d+$/.test(name) || /^\..+\.\d+\.\d+\.tmp$/.test(name)) await fs.rm(path.join(run, name), { recursive: true, force: true });
  }
}
