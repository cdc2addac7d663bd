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
import { TIME_LIMIT_REASON, type TimeLimitWatch, watchTimeLimitSignal } from '../executors/time-limit-signal.js';
import { evaluateCasesInMemory } from './validate-fold.js';
import { createCliExperiment } from './experiment.js';
import { prepareRunFolder } from './run-folder.js';
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
  /** The run stopped at the time-limit signal (SIGUSR1) with `last` saved: continue it with `resume`. */
  timeLimitStop?: boolean;
}

export interface TrainRunOptions {
  resume?: boolean;
  force?: boolean;
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
  // SIGUSR1 (Slurm's time-limit warning) from the start: one arriving while data loads still
  // stops the training at its first iteration boundary.
  const timeLimit = watchTimeLimitSignal({ onSignal: () => options.logger.warn('time-limit signal (SIGUSR1): stopping after this iteration; the run continues with --resume') });
  try {
    return await trainRunWatched(config, options, timeLimit);
  } finally {
    timeLimit.dispose();
  }
}

async function trainRunWatched(config: TrainRunConfig, options: TrainRunOptions, timeLimit: TimeLimitWatch): Promise<TrainRunResult> {
  const { logger } = options;
  const run = config.out;
  const prepared = await prepareRunFolder(run, { resume: options.resume, force: options.force });
  if (prepared.movedTo) logger.warn(`--force: the previous run in ${run} was moved to ${prepared.movedTo}`);
  if (prepared.resumed) {
    const saved = JSON.parse(await fs.readFile(path.join(run, 'config.json'), 'utf8')) as TrainRunConfig;
    config = { ...saved, epochs: config.epochs, backend: config.backend };
    logger.info(`resuming ${run} (config.json of the run is used; --epochs ${config.epochs})`);
  }

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
  const onSigint = () => {
    logger.warn('interrupt: stopping after this iteration (resume with --resume)');
    trainer.stop('interrupted');
  };
  process.once('SIGINT', onSigint);
  timeLimit.attach(trainer);
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
  const result: TrainRunResult = { summary, backend };
  if (summary.reason === 'stopped' && summary.message === TIME_LIMIT_REASON) result.timeLimitStop = true;
  if (summary.reason !== 'completed') {
    model.dispose();
    result.reportHtml = (await writeRunReport(run)).html;
    if (summary.reason === 'error') throw new CliError(`training failed: ${summary.message ?? 'unknown error'} (events in ${path.join(run, 'events.jsonl')})`);
    return result;
  }

  // The final model, in its own folder, for `voxseg predict --run`.
  const finalDir = summary.checkpoints.final ?? path.join(run, 'checkpoints', 'final');
  const modelDir = path.join(run, 'model');
  await copyDirAtomic(finalDir, modelDir);
  result.modelDir = modelDir;

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

/** Copy a folder's files into `dest`, replacing it atomically (temp folder + rename). */
async function copyDirAtomic(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.cp(src, tmp, { recursive: true });
  await fs.rm(dest, { recursive: true, force: true });
  await fs.rename(tmp, dest);
}
