import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  type EvaluationResult,
  type Logger,
  createLogger,
  formatEvaluationTable,
  loadRunModels,
  meanMetrics,
  predictCase,
  resolveTrainConfig,
  scoreCase,
  trainRun,
} from '@voxseg/cli';
import { selectBackend } from '@voxseg/core';
import { BratsDataset, type NiftiHeader, writeNifti } from '@voxseg/plugin-data-brats';
import type { WinnerRecipe } from './recipe.js';

export interface RunRecipeOptions {
  /** BraTS-layout training folder. */
  data: string;
  /** BraTS-layout test folder (labelled cases are scored). */
  test: string;
  /** Output folder: `<out>/<variant>/fold_<k>/` runs, `<out>/predictions/`, `<out>/metrics.json`. */
  out: string;
  recipe: WinnerRecipe;
  backend?: string;
  logger?: Logger;
}

/**
 * The BraTS 2021 winning recipe composed in code: train every (variant, fold), resuming any
 * that is already done, then predict the test cases with the ensemble of all models (sigmoid
 * probabilities averaged), post-process ET, write `.nii.gz` labels and score them.
 */
export async function runWinnerRecipe(o: RunRecipeOptions): Promise<EvaluationResult> {
  const logger = o.logger ?? createLogger();
  const runs: string[] = [];
  for (const variant of o.recipe.variants) {
    for (let fold = 0; fold < o.recipe.folds; fold++) {
      const out = path.join(o.out, variant.replace(/\+/g, '_'), `fold_${fold}`);
      runs.push(out);
      if (await exists(path.join(out, 'model', 'model.json'))) {
        logger.info(`${variant} fold ${fold}: trained already (${out})`);
        continue;
      }
      const resume = await exists(path.join(out, 'config.json'));
      logger.info(`${variant} fold ${fold}: ${resume ? 'resuming' : 'training'}`);
      const config = resolveTrainConfig(o.recipe.train, { data: o.data, out, variant, fold, folds: o.recipe.folds, backend: o.backend ?? 'auto' });
      const r = await trainRun(config, { resume, logger });
      if (r.summary.reason !== 'completed') throw new Error(`${variant} fold ${fold}: ${r.summary.reason}`);
    }
  }

  await selectBackend(o.backend ?? 'auto');
  const models = await loadRunModels(runs);
  const dataset = new BratsDataset({ root: o.test, cacheDir: false });
  const predDir = path.join(o.out, 'predictions');
  await fs.mkdir(predDir, { recursive: true });
  const cases: EvaluationResult['cases'] = {};
  try {
    for (const id of await dataset.caseIds()) {
      const c = await dataset.loadCase(id);
      const pred = await predictCase(models, c, o.recipe.inference);
      await writeNifti(path.join(predDir, `${id}.nii.gz`), pred.labels, { reference: c.meta.header as NiftiHeader, datatype: 'uint8' });
      if (c.label) {
        const [d, h, w] = c.shape;
        cases[id] = scoreCase(pred.croppedLabels, c.label, [d, h, w], c.meta.spacing).metrics;
      }
    }
  } finally {
    for (const m of models) m.model.dispose();
  }
  const result: EvaluationResult = { cases, mean: meanMetrics(cases) };
  await fs.writeFile(path.join(o.out, 'metrics.json'), JSON.stringify(result, null, 2) + '\n');
  logger.info(`ensemble of ${models.length} models on ${Object.keys(cases).length} test case(s):\n${formatEvaluationTable(result)}`);
  return result;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}
