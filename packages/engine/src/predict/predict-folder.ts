import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type CaseData, type Dataset, type Experiment, fsErrorFor } from '@voxseg/core';
import { defaultExperimentConfig, type InferenceConfig } from '../config/experiment-config.js';
import { EngineError } from '../errors.js';
import { type EngineHost, noProgress, silentLogger } from '../host.js';
import { createEngineExperiment } from '../plugins/builtin-plugins.js';
import { shardCases } from '../executors/shard-cases.js';
import { datasetFactoryFor, openDataset } from '../run/open-dataset.js';
import { assertWritable, lockRunFolder } from '../run/run-folder.js';
import { applyInferencePrecision } from './inference-precision.js';
import { type CasePrediction, predictCase } from './predict-case.js';
import { type CheckpointChoice, loadRunModels, type RunModel } from './load-runs.js';

export interface PredictFolderOptions extends EngineHost {
  /** Run folders (several = an ensemble), or folders holding `model.json`. */
  runs: string[];
  /** Folder of cases to predict (any registered dataset format, detected). */
  input: string;
  /** Output folder. */
  out: string;
  /** Dataset name of the input (default: detected from the folder, else the runs' dataset). */
  dataset?: string;
  /** Inference settings (default: the published ones). */
  inference?: Partial<InferenceConfig>;
  /** Experiment whose datasets are used (default: the built-in plugins). */
  experiment?: Experiment;
  /** Predict with this checkpoint of each run instead of its final model (e.g. of an unfinished run). */
  checkpoint?: CheckpointChoice;
  /**
   * Ctrl-C while predicting: the output folder's lock is released, then this is called (the
   * CLI exits 130). Without it SIGINT is not handled here.
   */
  onSigint?: () => void;
  /** Called after each case is written (e.g. for overlays). */
  onCase?: (c: CaseData, prediction: CasePrediction, file: string) => Promise<void> | void;
  /**
   * Predict only part `index` of `count` (nnU-Net's `-num_parts`/`-part_id`: sorted ids, every
   * count-th from index). Parts write into one `out` at the same time, so each locks only its
   * own part (`<out>/.voxseg-parts/part-<index>-of-<count>`), not the whole folder.
   */
  parts?: { count: number; index: number };
  /** Skip cases whose prediction (a file `<id>.<ext>` in `out`) exists: resume. Default false. */
  skipExisting?: boolean;
}

/**
 * Predict every case of a folder with one model or an ensemble, writing one label file per
 * case in the dataset's own format (`Dataset.writePrediction`). The input's dataset is found
 * by name or detected; nothing here knows a format.
 */
export async function predictFolder(options: PredictFolderOptions): Promise<{ files: string[]; models: RunModel[]; skipped: string[]; cases: number }> {
  const inference = { ...defaultExperimentConfig().inference, ...options.inference };
  // bf16 is checked before anything is loaded or locked: a CPU without it is refused at once.
  const restorePrecision = await applyInferencePrecision(inference.precision);
  try {
    return await predictFolderWith(options, inference);
  } finally {
    restorePrecision();
  }
}

async function predictFolderWith(options: PredictFolderOptions, inference: InferenceConfig): Promise<{ files: string[]; models: RunModel[]; skipped: string[]; cases: number }> {
  const logger = options.logger ?? silentLogger;
  const experiment = options.experiment ?? createEngineExperiment();
  const models = await loadRunModels(options.runs, options.checkpoint ? { checkpoint: options.checkpoint } : {});
  try {
    // The input's format: named, else detected, else the one the (first) run trained on.
    let name = options.dataset ?? 'auto';
    if (name === 'auto') {
      const detected = await datasetFactoryFor(experiment, { name: 'auto' }, options.input, '--input').catch(() => null);
      name = detected?.name ?? models[0]!.dataset ?? 'auto';
    }
    // A run trained on this format may have kept what its inputs need (nnU-Net: dataset.json).
    const trainedOn = models.find((m) => m.dataset === name)?.run;
    const { dataset } = await openDataset(experiment, { name, options: {} }, options.input, { flag: '--input', readOnly: true, ...(trainedOn ? { run: trainedOn } : {}) });
    if (!dataset.writePrediction) throw new EngineError(`--input ${options.input}: the ${dataset.name} dataset cannot write predictions (no writePrediction)`);
    const all = await validInputIds(dataset, options.input);
    const ids = options.parts ? shardCases(all, options.parts.count, options.parts.index) : all;
    if (options.parts) logger.info(`part ${options.parts.index} of ${options.parts.count}: ${ids.length} of ${all.length} case(s)`);
    if (dataset.inChannels !== models[0]!.inChannels) {
      throw new EngineError(`--run ${models[0]!.run}: the model takes ${models[0]!.inChannels} input channels but ${options.input} has ${dataset.inChannels} modalities (image channels)`);
    }
    // One writer per output folder (a second predict, or a training, into it is refused); with
    // parts, one writer per part.
    const lock = options.parts
      ? lockRunFolder(path.join(options.out, '.voxseg-parts', `part-${options.parts.index}-of-${options.parts.count}`), { command: 'predict', logger, label: '--out', what: 'output folder' })
      : lockRunFolder(options.out, { command: 'predict', logger, label: '--out', what: 'output folder' });
    const onSigint = () => {
      lock.release();
      options.onSigint?.();
    };
    if (options.onSigint) process.once('SIGINT', onSigint);
    try {
      await assertWritable(options.out);
      const existing = options.skipExisting ? await predictedIds(options.out) : new Set<string>();
      const skipped = ids.filter((id) => existing.has(id));
      if (skipped.length) logger.info(`${skipped.length} case(s) already predicted in ${options.out}: skipped`);
      const todo = ids.filter((id) => !existing.has(id));
      return { files: await predictCases(dataset, todo, models, inference, options), models, skipped, cases: ids.length };
    } finally {
      process.off('SIGINT', onSigint);
      lock.release();
    }
  } finally {
    for (const m of models) m.model.dispose();
  }
}

/** Predict and write every case (the output folder is locked by the caller). */
async function predictCases(dataset: Dataset, ids: string[], models: RunModel[], inference: InferenceConfig, options: PredictFolderOptions): Promise<string[]> {
  const logger = options.logger ?? silentLogger;
  const writePrediction = dataset.writePrediction!.bind(dataset);
  logger.info(`predicting ${ids.length} case(s) with ${models.length} model(s)${inference.tta ? ', mirroring TTA' : ''}, step ${inference.step}`);
  const bar = (options.progress ?? noProgress)({ label: 'predict', total: ids.length, unit: 'cases' });
  const files: string[] = [];
  try {
    for (const id of ids) {
      const c = await dataset.loadCase(id);
      const pred = await predictCase(models, c, dataset, {
        step: inference.step,
        tta: inference.tta,
        threshold: inference.threshold,
        windowBatchSize: inference.windowBatchSize,
        postprocess: inference.postprocess,
        onProgress: (m, p) => bar.update(files.length, `${id} model ${m + 1}/${models.length} windows ${p.done}/${p.total}`),
      });
      const file = await writePrediction(c.meta, pred.labels, options.out).catch((err: unknown) => {
        throw err instanceof Error && /cannot write/.test(err.message) ? err : fsErrorFor(err, `${options.out}/${id}`);
      });
      files.push(file);
      await options.onCase?.(c, pred, file);
      bar.increment(1, id);
    }
  } finally {
    bar.stop();
  }
  return files;
}

/** Ids of the predictions in `out`: files named `<id>.<ext>` (temp files of atomic writes start with a dot). */
async function predictedIds(out: string): Promise<Set<string>> {
  const names = await fs.readdir(out).catch(() => [] as string[]);
  const ids = new Set<string>();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    // `<id>.nii.gz`, `<id>.nii`, `<id>.mha`, ...: every prefix before a dot may be the id.
    for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) ids.add(name.slice(0, i));
  }
  return ids;
}

/** Every case of the input, validated first (one line for the first problem). */
async function validInputIds(dataset: Dataset, input: string): Promise<string[]> {
  if (!dataset.checkCases) {
    const ids = await dataset.caseIds();
    if (!ids.length) throw new EngineError(`--input ${input}: no cases found`);
    return ids;
  }
  const report = await dataset.checkCases().catch((err: Error) => {
    throw new EngineError(`--input: ${err.message}; see voxseg check --data ${input}`);
  });
  if (report.skipped.length) {
    const s = report.skipped[0]!;
    throw new EngineError(`--input ${input}: ${report.skipped.length} invalid case(s), first: ${s.id}: ${s.reasons[0] ?? 'invalid'}; run voxseg check --data ${input}`);
  }
  const ids = [...report.valid, ...(report.unlabelled ?? [])].sort();
  if (!ids.length) throw new EngineError(`--input ${input}: no cases found; see voxseg check --data ${input}`);
  return ids;
}
