import type * as tfl from '@tensorflow/tfjs-layers';
import type { CaseData, Dataset } from '@voxseg/core';
import type { Logger } from '../util/logger.js';
import { createProgress } from '../util/progress.js';
import { type EvaluationResult, meanMetrics, scoreCase } from './evaluation.js';
import { predictCase } from './predict-case.js';

/**
 * nnU-Net's end-of-training validation: predict every validation case of the fold with the
 * final model (sliding window, as `voxseg predict` does, ET post-processing included) and
 * score it against its label with Dice and HD95 per region. Runs on the loaded (cropped)
 * cases: outside the crop box both prediction and reference are background.
 */
export async function evaluateCasesInMemory(
  model: tfl.LayersModel,
  cases: CaseData[],
  _dataset: Dataset,
  options: { patch: number; logger: Logger; tta?: boolean },
): Promise<EvaluationResult> {
  const result: EvaluationResult = { cases: {}, mean: {}, extra: {} };
  const bar = createProgress({ label: 'validate (full cases)', total: cases.length, unit: 'cases' });
  try {
    for (const c of cases) {
      if (!c.label) continue;
      const pred = await predictCase([{ model, patch: options.patch }], c, { tta: options.tta ?? false });
      const [d, h, w] = c.shape;
      const { metrics, extra } = scoreCase(pred.croppedLabels, c.label, [d, h, w], c.meta.spacing);
      result.cases[c.meta.id] = metrics;
      result.extra![c.meta.id] = extra;
      bar.increment(1, c.meta.id);
    }
  } finally {
    bar.stop();
  }
  result.mean = meanMetrics(result.cases);
  const m = result.mean;
  options.logger.info(
    `validation (${Object.keys(result.cases).length} cases): Dice ${Object.entries(m).map(([r, v]) => `${r} ${v.dice.toFixed(4)}`).join(', ')}`,
  );
  return result;
}
