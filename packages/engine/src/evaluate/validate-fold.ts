import type { CaseData, ComponentSpec, Dataset, ExperimentContext } from '@voxseg/core';
import type { InferenceConfig } from '../config/experiment-config.js';
import { type EngineHost, noProgress, silentLogger } from '../host.js';
import { type EnsembleMember, predictCase } from '../predict/predict-case.js';
import { createMetrics, type EvaluationResult, meanMetrics, scoreCase } from './evaluation.js';

/**
 * nnU-Net's end-of-training validation: predict every validation case of the fold with the
 * final model (sliding window, as `voxseg predict` does, post-processing included) and score
 * it against its label with the config's metrics per target channel. Runs on the loaded
 * (cropped) cases: outside the crop box both prediction and reference are background.
 */
export async function evaluateCasesInMemory(
  models: EnsembleMember[],
  cases: CaseData[],
  dataset: Pick<Dataset, 'targets' | 'postprocess' | 'metricOptions'>,
  options: EngineHost & { experiment: ExperimentContext; metrics: readonly ComponentSpec[]; inference: InferenceConfig },
): Promise<EvaluationResult> {
  const metrics = createMetrics(options.experiment, options.metrics, dataset.metricOptions);
  const result: EvaluationResult = { cases: {}, mean: {}, extra: {} };
  const bar = (options.progress ?? noProgress)({ label: 'validate (full cases)', total: cases.length, unit: 'cases' });
  const inf = options.inference;
  try {
    for (const c of cases) {
      if (!c.label) continue;
      const pred = await predictCase(models, c, dataset, { step: inf.step, tta: inf.tta, threshold: inf.threshold, windowBatchSize: inf.windowBatchSize, postprocess: inf.postprocess });
      const [d, h, w] = c.shape;
      const scored = scoreCase(pred.croppedLabels, c.label, [d, h, w], c.meta.spacing, dataset.targets, metrics);
      result.cases[c.meta.id] = scored.metrics;
      bar.increment(1, c.meta.id);
    }
  } finally {
    bar.stop();
  }
  result.mean = meanMetrics(result.cases);
  const m = result.mean;
  (options.logger ?? silentLogger).info(
    `validation (${Object.keys(result.cases).length} cases): ${Object.entries(m).map(([r, v]) => `${r} ${Object.entries(v).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(' ')}`).join(', ')}`,
  );
  return result;
}
