import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentSpec, Experiment, LabelMap } from '@voxseg/core';
import { defaultExperimentConfig } from '../config/experiment-config.js';
import { EngineError } from '../errors.js';
import { type EngineHost, noProgress } from '../host.js';
import { createEngineExperiment } from '../plugins/builtin-plugins.js';
import { openDataset } from '../run/open-dataset.js';
import { createMetrics, type EvaluationResult, meanMetrics, scoreCase } from './evaluation.js';

export interface EvaluateFolderOptions extends EngineHost {
  /** Folder of `<caseId>.nii.gz` predictions (as `predictFolder` writes them). */
  pred: string;
  /** Ground-truth folder, in any registered dataset format (detected unless `dataset` names it). */
  gt: string;
  dataset?: string;
  /** Metrics of the JSON (default dice, hd95). */
  metrics?: ComponentSpec[];
  /** Extra metrics for the CSV only (default sensitivity, specificity when registered). */
  extraMetrics?: ComponentSpec[];
  experiment?: Experiment;
  /** Called after each case is scored (e.g. for overlays). */
  onCase?: (id: string, pred: LabelMap, ref: LabelMap) => Promise<void> | void;
}

/**
 * Score a folder of predictions against the reference labels of a dataset folder, per target
 * channel of that dataset's encoding, with the given metrics. Reads and finds files only
 * through the dataset (`referenceFile`, `readLabelMap`).
 */
export async function evaluateFolder(options: EvaluateFolderOptions): Promise<EvaluationResult> {
  const experiment = options.experiment ?? createEngineExperiment();
  const files = await listPredictions(options.pred);
  const { dataset } = await openDataset(experiment, { name: options.dataset ?? 'auto', options: {} }, options.gt, { flag: '--gt', readOnly: true }).catch((err: Error) => {
    // No recognisable reference folder: say which case has no ground truth, then why.
    throw new EngineError(`--gt ${options.gt}: no ground truth for case ${files[0]!.replace(/\.nii(\.gz)?$/, '')} (${err.message.replace(/^--gt \S+: /, '')})`);
  });
  if (!dataset.referenceFile || !dataset.readLabelMap) throw new EngineError(`--gt ${options.gt}: the ${dataset.name} dataset cannot read reference labels (no referenceFile/readLabelMap)`);
  const metrics = createMetrics(experiment, options.metrics ?? defaultExperimentConfig().metrics, dataset.metricOptions);
  const extraSpecs = options.extraMetrics ?? ['sensitivity', 'specificity'].filter((n) => experiment.registry('metric').has(n)).map((name) => ({ name }));
  const extraMetrics = createMetrics(experiment, extraSpecs, dataset.metricOptions);
  const result: EvaluationResult = { cases: {}, mean: {}, extra: {} };
  const bar = (options.progress ?? noProgress)({ label: 'evaluate', total: files.length, unit: 'cases' });
  try {
    for (const name of files) {
      const id = name.replace(/\.nii(\.gz)?$/, '');
      const file = path.join(options.pred, name);
      const refFile = await dataset.referenceFile(id);
      if (!refFile) throw new EngineError(`--gt ${options.gt}: no ground truth for case ${id}`);
      const [pred, ref] = await Promise.all([dataset.readLabelMap(file), dataset.readLabelMap(refFile)]);
      if (pred.shape.join() !== ref.shape.join()) {
        throw new EngineError(`${file}: shape [${pred.shape.join(',')}] differs from the ground truth ${refFile} [${ref.shape.join(',')}]`);
      }
      const scored = scoreCase(pred.data, ref.data, ref.shape, ref.spacing, dataset.targets, metrics, extraMetrics);
      result.cases[id] = scored.metrics;
      result.extra![id] = scored.extra;
      await options.onCase?.(id, pred, ref);
      bar.increment(1, id);
    }
  } finally {
    bar.stop();
  }
  result.mean = meanMetrics(result.cases);
  return result;
}

/** The prediction files of a folder, sorted (one line when there are none). */
async function listPredictions(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new EngineError(`--pred ${dir}: cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const files = names.filter((n) => /\.nii(\.gz)?$/.test(n)).sort();
  if (files.length === 0) throw new EngineError(`--pred ${dir}: no .nii.gz predictions found`);
  return files;
}
