import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  type BackendSelection,
  type BatchProvider,
  type CaseData,
  type Dataset,
  type Experiment,
  type ExperimentContext,
  type Loss,
  type NetworkOptions,
  type SegmentOf,
  availableMemory,
  combineSegmentOf,
  memoryRefusal,
  planEstimator,
  type TrainingEvent,
  type TrainingSummary,
  Trainer,
  selectBackend,
  recoverDir,
  writeEventsJsonl,
  writeFileAtomic,
} from '@voxseg/core';
import { kFoldSplits, readSplits, writeSplits } from '@voxseg/plugin-data-brats';
import type { Observable } from 'rxjs';
import type { ExperimentConfig } from '../config/experiment-config.js';
import { readRunConfig } from '../config/run-config.js';
import { describeChanges, resumeConfig } from '../config/resume-config.js';
import type { ConfigLayer } from '../config/validate-config.js';
import { EngineError } from '../errors.js';
import { evaluateCasesInMemory } from '../evaluate/validate-fold.js';
import { type EngineHost, noProgress, silentLogger } from '../host.js';
import { createEngineExperimentFrom } from '../plugins/builtin-plugins.js';
import { TIME_LIMIT_REASON, type TimeLimitWatch, watchTimeLimitSignal } from '../executors/time-limit-signal.js';
import { openDataset } from './open-dataset.js';
import { lockRunFolder, prepareRunFolder } from './run-folder.js';

/** What {@link trainRun} returns. */
export interface TrainRunResult {
  summary: TrainingSummary;
  backend: BackendSelection;
  /** The config the run used (after a resume: the run's own, with the new epochs and backend). */
  config: ExperimentConfig;
  /** The final model folder (`<run>/model`), when the run completed. */
  modelDir?: string;
  /** Held-out (fold validation) mean metrics, when the run completed. */
  metrics?: Record<string, Record<string, number>>;
  /** The run stopped at the time-limit signal (SIGUSR1) with `last` saved: continue it with `resume`. */
  timeLimitStop?: boolean;
  /** The run was stopped by Ctrl-C (SIGINT): unfinished, resumable (the CLI exits 130). */
  interrupted?: boolean;
}

export interface TrainRunOptions extends EngineHost {
  /** The run folder (config.json, splits.json, events.jsonl, checkpoints/, model/, metrics.json). */
  out: string;
  resume?: boolean;
  /**
   * Without `resume`: start over in a folder that holds a run (moved aside). With `resume`:
   * accept given settings that differ from the saved run's (see `resumeConfig`).
   */
  force?: boolean;
  /**
   * The config layers the user gave explicitly (a config file, flags); on resume only these
   * override the saved config, never defaults. Default: nothing given (the run as saved, with
   * `config.training.epochs` and `backend`).
   */
  given?: ConfigLayer[];
  /** Extra subscriber (progress display, examples, tests). */
  onEvents?: (events$: Observable<TrainingEvent>) => void;
  /** Use this experiment instead of the built-in plugins plus `config.plugins`. */
  experiment?: Experiment;
  /** Stop cleanly on Ctrl-C (SIGINT) after the current iteration. Default true. */
  handleSigint?: boolean;
  /**
   * Stop cleanly on SIGUSR1 (Slurm's time-limit warning, `--signal=B:USR1@<s>`) after the
   * current iteration, `last` saved; the result has `timeLimitStop`. Default true.
   */
  handleTimeLimitSignal?: boolean;
}

/**
 * Train one fold: open the dataset named in the config (or detected from its folder), check
 * every case, split into folds (`splits.json`), load the fold's cases, and resolve every part
 * by name through the experiment's registries: augmenters, sampler, network (preset or
 * builder), loss, optimizer, scheduler, validation criterion, metrics. Train with events to
 * `events.jsonl` and checkpoints; then predict the fold's validation cases whole with the final
 * model and write `metrics.json`. With `resume`, the run's own `config.json` is used (only
 * `training.epochs` and `training.backend` are taken from `config`).
 */
export async function trainRun(config: ExperimentConfig, options: TrainRunOptions): Promise<TrainRunResult> {
  if (!options.out) throw new EngineError('--out RUN is required');
  // One writer per run folder: a second train, cv or predict into it is refused.
  const lock = lockRunFolder(options.out, { command: 'train', logger: options.logger ?? silentLogger });
  // SIGUSR1 (Slurm's time-limit warning) from the start: one arriving while data loads still
  // stops the training at its first iteration boundary.
  const timeLimit =
    options.handleTimeLimitSignal === false
      ? undefined
      : watchTimeLimitSignal({ onSignal: () => (options.logger ?? silentLogger).warn('time-limit signal (SIGUSR1): stopping after this iteration; the run continues with --resume') });
  try {
    return await trainRunLocked(config, options, timeLimit);
  } finally {
    timeLimit?.dispose();
    lock.release();
  }
}

async function trainRunLocked(config: ExperimentConfig, options: TrainRunOptions, timeLimit: TimeLimitWatch | undefined): Promise<TrainRunResult> {
  const logger = options.logger ?? silentLogger;
  const run = options.out;
  const prepared = await prepareRunFolder(run, { resume: options.resume, force: options.force });
  if (prepared.movedTo) logger.warn(`--force: the previous run in ${run} was moved to ${prepared.movedTo}`);
  if (prepared.resumed) {
    const saved = await readRunConfig(path.join(run, 'config.json'));
    const given = options.given ?? [{ training: { epochs: config.training.epochs, backend: config.training.backend } }];
    const resumed = resumeConfig(run, saved, given, options.force ?? false);
    config = resumed.config;
    if (resumed.changes.some((c) => c.exact)) logger.warn(`--force: resuming ${run} with changed settings (${describeChanges(resumed.changes)}); it will not match an uninterrupted run`);
    else if (resumed.changes.length) logger.info(`resuming ${run} with ${describeChanges(resumed.changes)}`);
    logger.info(`resuming ${run} with its saved settings (epochs ${config.training.epochs}, patch ${config.training.patch}, network ${config.network.name})`);
  }
  await cleanRunLeftovers(run);
  const t = config.training;
  const root = config.dataset.options.root;
  if (typeof root !== 'string' || !root) throw new EngineError('--data DIR is required (dataset.options.root)');

  const experiment = options.experiment ?? (await createEngineExperimentFrom(config.plugins));
  // Fail on unknown names first, before any data is read.
  const parts = resolveParts(experiment, config);
  const opened = await openDataset(experiment, config.dataset, root);
  config = { ...config, dataset: { name: opened.name, options: { ...config.dataset.options } } };
  const backend = await selectBackend(t.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });
  // Data: validate everything first, so bad input is reported before minutes of work.
  const dataset = await checkedDataset(opened.dataset, root, t.skipInvalid, options);

  const ids = await dataset.caseIds();
  const splitsFile = path.join(run, 'splits.json');
  const splits = prepared.resumed ? await readSplits(splitsFile) : kFoldSplits(ids, { folds: t.folds, seed: t.splitSeed });
  if (!prepared.resumed) await writeSplits(splitsFile, splits);
  const split = splits[t.fold];
  if (!split) throw new EngineError(`training.fold ${t.fold}: splits.json has ${splits.length} folds`);
  if (split.train.length === 0) throw new EngineError(`${root}: fold ${t.fold} has no training cases (${ids.length} cases in all)`);
  if (!prepared.resumed) {
    const record = { ...config, run: { backend: backend.name, plugins: experiment.pluginList(), createdAt: new Date().toISOString() } };
    await writeFileAtomic(path.join(run, 'config.json'), JSON.stringify(record, null, 2) + '\n');
  }
  // What predicting with this run needs of the dataset besides the images (e.g. nnU-Net's
  // dataset.json), kept beside config.json; again on resume, for runs started before it was kept.
  await opened.dataset.keepInRun?.(run);

  // Before any case is loaded: refuse a run whose estimated peak exceeds the machine's memory.
  const segmentOf = checkedMemoryPlan(experiment, parts, config, dataset.inChannels, dataset.targets.channels.length);
  const trainCases = await loadCases(dataset, split.train, 'load train cases', options);
  const valCases = split.val.length ? await loadCases(dataset, split.val, 'load validation cases', options) : [];
  const patch: [number, number, number] = [t.patch, t.patch, t.patch];
  const sampler = (cases: CaseData[], training: boolean): BatchProvider => {
    const f = experiment.get('sampler', config.sampler.name);
    return f.create(
      { ...(f.defaults ?? {}), ...config.sampler.options, ...(training ? {} : { workers: 0 }) },
      {
        cases,
        targets: dataset.targets,
        patchSize: patch,
        batchSize: t.batch,
        seed: `${t.seed}:${training ? 'train' : 'val'}`,
        augmentation: training ? config.augmentation : [],
        plugins: experiment.pluginSources(),
        training,
      },
      experiment,
    );
  };
  const train = sampler(trainCases, true);
  const val = valCases.length ? sampler(valCases, false) : undefined;

  const regions = [...dataset.targets.channels];
  const { model, networkOptions, variant } = parts.buildNetwork(dataset.inChannels, regions.length);
  const trainer = new Trainer({
    model,
    loss: parts.loss,
    scheduler: parts.scheduler,
    optimizer: parts.optimizer,
    criterion: parts.criterion,
    train,
    ...(val ? { val } : {}),
    epochs: t.epochs,
    iterationsPerEpoch: t.iterations,
    valIterations: t.valIterations,
    initialLr: t.lr,
    clipNorm: t.clipNorm,
    outDir: run,
    // The final model is copied inside the run, before runEnd: a failed copy is the run's error.
    modelDir: path.join(run, 'model'),
    resume: prepared.resumed,
    seed: t.seed,
    network: variant,
    backend: backend.name,
    plugins: experiment.pluginList(),
    targetChannels: regions,
    modelMeta: { network: parts.networkBuilder, variant, options: networkOptions, regions, patchSize: t.patch, inChannels: dataset.inChannels, dataset: opened.name },
    logger: { warn: (m: string) => logger.warn(m) },
    ...(segmentOf ? { checkpoint: segmentOf } : {}),
  });
  const writer = writeEventsJsonl(trainer.events$, path.join(run, 'events.jsonl'));
  options.onEvents?.(trainer.events$);
  // Ctrl-C stops cleanly: the current iteration finishes and `last` is written (resume later).
  let interrupted = false;
  const onSigint = () => {
    logger.warn('interrupt: stopping after this iteration (resume with --resume)');
    interrupted = true;
    trainer.stop('interrupted');
  };
  if (options.handleSigint !== false) process.once('SIGINT', onSigint);
  timeLimit?.attach(trainer);
  let summary: TrainingSummary;
  try {
    summary = await trainer.run();
  } finally {
    process.off('SIGINT', onSigint);
    await writer.close();
    await train.dispose?.();
    await val?.dispose?.();
  }
  const result: TrainRunResult = { summary, backend, config, ...(interrupted && summary.reason === 'stopped' ? { interrupted } : {}) };
  if (summary.reason === 'stopped' && summary.message === TIME_LIMIT_REASON) result.timeLimitStop = true;
  if (summary.reason !== 'completed') {
    model.dispose();
    if (summary.reason === 'error') throw new EngineError(`training failed: ${summary.message ?? 'unknown error'} (events in ${path.join(run, 'events.jsonl')})`);
    return result;
  }

  // The trainer wrote the final model to its own folder (atomically), for `voxseg predict --run`.
  result.modelDir = path.join(run, 'model');

  if (valCases.length) {
    const metrics = await evaluateCasesInMemory([{ model, patch: t.patch }], valCases, dataset, { experiment, metrics: config.metrics, inference: config.inference, ...options });
    await writeFileAtomic(path.join(run, 'metrics.json'), JSON.stringify({ cases: metrics.cases, mean: metrics.mean }, null, 2) + '\n');
    result.metrics = metrics.mean;
  }
  model.dispose();
  return result;
}

/** Every part of the config resolved through the registries (unknown names fail here, listing the registered ones). */
function resolveParts(experiment: ExperimentContext, config: ExperimentConfig) {
  const named = <T>(key: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new EngineError(`${key}: ${(err as Error).message}`);
    }
  };
  const withDefaults = (defaults: object | undefined, options: Record<string, unknown>) => ({ ...(defaults ?? {}), ...options });
  config.augmentation.forEach((a, i) => named(`augmentation[${i}]`, () => experiment.get('augmenter', a.name)));
  named('sampler', () => experiment.get('sampler', config.sampler.name));
  for (const [i, m] of config.metrics.entries()) named(`metrics[${i}]`, () => experiment.get('metric', m.name));
  const lossF = named('loss', () => experiment.get('loss', config.loss.name));
  const loss: Loss = named('loss', () => lossF.create(withDefaults(lossF.defaults, config.loss.options), experiment));
  const schedF = named('scheduler', () => experiment.get('scheduler', config.scheduler.name));
  const scheduler = named('scheduler', () => schedF.create(withDefaults(schedF.defaults, config.scheduler.options), experiment));
  const optF = named('optimizer', () => experiment.get('optimizer', config.optimizer.name));
  const optimizer = (variables: readonly tf.Variable[]) => optF.create(withDefaults(optF.defaults, config.optimizer.options), variables, experiment);
  const critF = named('criterion', () => experiment.get('criterion', config.criterion.name));
  const criterion = named('criterion', () => critF.create(withDefaults(critF.defaults, config.criterion.options), experiment));
  // A network name is a preset (variants as data) or a builder.
  const presets = experiment.registry('preset');
  const builders = experiment.registry('network');
  const name = config.network.name;
  if (!presets.has(name) && !builders.has(name)) {
    throw new EngineError(`network: unknown network "${name}"; registered presets: ${presets.names().join(', ') || '(none)'}; builders: ${builders.names().join(', ') || '(none)'}`);
  }
  const preset = presets.has(name) ? presets.get(name) : undefined;
  const networkBuilder = preset ? preset.network : name;
  /** The run's network; `overrides` (a patch size, `initialize: false`) serve the memory estimate. */
  const buildNetwork = (inChannels: number, outChannels: number, overrides: Partial<NetworkOptions> = {}): { model: tfl.LayersModel; networkOptions: NetworkOptions; variant: string } => {
    const networkOptions: NetworkOptions = {
      ...(preset?.options ?? {}),
      inChannels,
      outChannels,
      patchSize: config.training.patch,
      seed: config.training.seed,
      ...config.network.options,
      ...overrides,
    };
    const model = named(`network ${name}`, () => experiment.get('network', networkBuilder).build(networkOptions, experiment));
    return { model, networkOptions, variant: name };
  };
  return { loss, scheduler, optimizer, criterion, buildNetwork, networkBuilder };
}

/**
 * What the run recomputes (`training.checkpointDecoder` / `checkpointEncoder`: the network's
 * decoder and encoder stages), after checking that the run fits in memory: the peak is
 * estimated from the network at the run's patch and batch (`estimateTrainingMemory`) and
 * compared with the machine's memory (`availableMemory`); a run that does not fit is refused
 * in one line naming the estimate and the settings that fit, unless `training.memoryCheck` is
 * false.
 */
function checkedMemoryPlan(experiment: Experiment, parts: ReturnType<typeof resolveParts>, config: ExperimentConfig, inChannels: number, outChannels: number): SegmentOf | undefined {
  const t = config.training;
  const builder = experiment.get('network', parts.networkBuilder);
  const decoderStageOf = builder.decoderStageOf ? (name: string) => builder.decoderStageOf!(name) : undefined;
  const encoderStageOf = builder.encoderStageOf ? (name: string) => builder.encoderStageOf!(name) : undefined;
  if (t.checkpointDecoder && !decoderStageOf) {
    throw new EngineError(`training.checkpointDecoder: network "${parts.networkBuilder}" does not name its decoder stages (its builder has no decoderStageOf)`);
  }
  if (t.checkpointEncoder && !encoderStageOf) {
    throw new EngineError(`training.checkpointEncoder: network "${parts.networkBuilder}" does not name its encoder stages (its builder has no encoderStageOf)`);
  }
  const segmentOf = combineSegmentOf(t.checkpointEncoder ? encoderStageOf : undefined, t.checkpointDecoder ? decoderStageOf : undefined);
  if (t.memoryCheck === false) return segmentOf;
  const estimator = planEstimator((patch) => parts.buildNetwork(inChannels, outChannels, { patchSize: patch, initialize: false }).model, decoderStageOf, encoderStageOf);
  const plan = { patch: t.patch, batch: t.batch, checkpointDecoder: t.checkpointDecoder === true, checkpointEncoder: t.checkpointEncoder === true };
  const refusal = memoryRefusal(plan, estimator, availableMemory(), {
    canCheckpoint: decoderStageOf !== undefined,
    canCheckpointEncoder: encoderStageOf !== undefined,
    overrideFlag: '--no-memory-check (training.memoryCheck: false)',
  });
  if (refusal) throw new EngineError(`training: ${config.network.name}: ${refusal}`);
  return segmentOf;
}

/** The dataset with only its valid, labelled cases (validated first; invalid ones refused unless `skipInvalid`). */
async function checkedDataset(dataset: Dataset, root: string, skipInvalid: boolean, host: EngineHost): Promise<Dataset> {
  const logger = host.logger ?? silentLogger;
  if (!dataset.checkCases) return dataset;
  const bar = (host.progress ?? noProgress)({ label: 'validate', total: (await dataset.caseIds().catch(() => [])).length, unit: 'cases' });
  let report;
  try {
    report = await dataset.checkCases({ onProgress: (done, _total, id) => bar.update(done, id) });
  } catch (err) {
    throw new EngineError(`${(err as Error).message}; see voxseg check --data ${root}`);
  } finally {
    bar.stop();
  }
  const { valid, skipped, unlabelled = [] } = report;
  if (valid.length === 0 && skipped.length === 0) throw new EngineError(`--data ${root}: no labelled cases found; see voxseg check --data ${root}`);
  if (skipped.length && !skipInvalid) {
    throw new EngineError(
      `--data ${root}: ${skipped.length} invalid case(s) (${skipped.slice(0, 3).map((s) => s.id).join(', ')}${skipped.length > 3 ? ', ...' : ''}); run voxseg check --data ${root} for the list, or pass --skip-invalid`,
    );
  }
  for (const s of skipped) logger.warn(`skipping invalid case ${s.id}: ${s.reasons[0] ?? 'invalid'}`);
  if (unlabelled.length) logger.warn(`${unlabelled.length} case(s) without a label are not used for training`);
  // The fold split runs over the valid, labelled cases only.
  return {
    name: dataset.name,
    inChannels: dataset.inChannels,
    targets: dataset.targets,
    caseIds: async () => valid,
    loadCase: (id) => dataset.loadCase(id),
    ...(dataset.postprocess ? { postprocess: dataset.postprocess.bind(dataset) } : {}),
    ...(dataset.metricOptions ? { metricOptions: dataset.metricOptions } : {}),
  };
}

async function loadCases(dataset: Dataset, ids: string[], label: string, host: EngineHost): Promise<CaseData[]> {
  const bar = (host.progress ?? noProgress)({ label, total: ids.length, unit: 'cases' });
  const out: CaseData[] = [];
  try {
    for (const id of ids) {
      out.push(await dataset.loadCase(id));
      bar.increment(1, id);
    }
  } finally {
    bar.stop();
  }
  (host.logger ?? silentLogger).debug(`${label}: ${ids.length} cases, tf tensors alive ${tf.memory().numTensors}`);
  return out;
}

/**
 * What a crash of an earlier process left in the run folder (the folder is locked, so no
 * other writer is at work): temporary folders of the final model copy and temporary files of
 * atomic writes. Checkpoint leftovers are the trainer's to clean (it keeps the newest
 * complete one).
 */
async function cleanRunLeftovers(run: string): Promise<void> {
  await recoverDir(path.join(run, 'model'), { clean: true });
  for (const name of await fs.readdir(run)) {
    if (/^model\.tmp-\d+$/.test(name) || /^\..+\.\d+\.[0-9a-z]+\.tmp$/.test(name)) await fs.rm(path.join(run, name), { recursive: true, force: true });
  }
}
