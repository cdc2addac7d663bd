import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type Experiment, writeFileAtomic } from '@voxseg/core';
import type { ExperimentConfig } from '../config/experiment-config.js';
import { EngineError } from '../errors.js';
import { type EvaluationResult, meanMetrics, type RegionMetrics } from '../evaluate/evaluation.js';
import { type EngineHost, silentLogger } from '../host.js';
import { lockRunFolder } from './run-folder.js';
import { type TrainRunOptions, trainRun } from './train-run.js';

export interface CrossValidateOptions extends EngineHost, Pick<TrainRunOptions, 'onEvents' | 'experiment' | 'given'> {
  /** Folder of the folds: `<out>/fold_<k>/` runs and `<out>/metrics.json`. */
  out: string;
}

/**
 * Every fold of the config's split in sequence, each in `<out>/fold_<k>` (a fold with
 * `metrics.json` is done and skipped; a started one is resumed), then the metrics of every
 * case over all folds in `<out>/metrics.json`.
 */
export async function crossValidate(
  config: ExperimentConfig,
  options: CrossValidateOptions,
): Promise<EvaluationResult & { interrupted?: { run: string; epochsCompleted: number } }> {
  const logger = options.logger ?? silentLogger;
  // The cv folder is locked for the whole run (each fold folder too, by its training).
  const lock = lockRunFolder(options.out, { command: 'cv', logger });
  try {
    return await crossValidateLocked(config, options);
  } finally {
    lock.release();
  }
}

async function crossValidateLocked(config: ExperimentConfig, options: CrossValidateOptions): Promise<EvaluationResult & { interrupted?: { run: string; epochsCompleted: number } }> {
  const logger = options.logger ?? silentLogger;
  const folds = config.training.folds;
  const all: Record<string, RegionMetrics> = {};
  for (let k = 0; k < folds; k++) {
    const foldDir = path.join(options.out, `fold_${k}`);
    const metricsFile = path.join(foldDir, 'metrics.json');
    const done = await fs.readFile(metricsFile, 'utf8').then((t) => JSON.parse(t) as EvaluationResult, () => null);
    if (!done) {
      const started = await fs.stat(path.join(foldDir, 'config.json')).then(() => true, () => false);
      logger.info(`fold ${k + 1}/${folds}: ${started ? 'resuming' : 'training'} in ${foldDir}`);
      const given = [...(options.given ?? []), { training: { fold: k } }];
      const r = await trainRun({ ...config, training: { ...config.training, fold: k } }, { ...options, out: foldDir, resume: started, given });
      if (r.interrupted) return { cases: all, mean: meanMetrics(all), interrupted: { run: foldDir, epochsCompleted: r.summary.epochsCompleted } };
      if (r.summary.reason !== 'completed') throw new EngineError(`fold ${k}: run ${r.summary.reason}; rerun voxseg cv to resume`);
    } else {
      logger.info(`fold ${k + 1}/${folds}: done (${metricsFile})`);
    }
    const metrics = JSON.parse(await fs.readFile(metricsFile, 'utf8')) as EvaluationResult;
    Object.assign(all, metrics.cases);
  }
  const result = { cases: all, mean: meanMetrics(all) };
  await writeFileAtomic(path.join(options.out, 'metrics.json'), JSON.stringify(result, null, 2) + '\n', { mkdir: true });
  return result;
}

/** Re-export for callers that pass an experiment they built. */
export type { Experiment };
