import { promises as fs } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '@voxseg/core';
import {
  type EngineLogger,
  type EvaluationResult,
  createEngineExperiment,
  evaluateFolder,
  predictFolder,
  resolveExperimentConfig,
  silentLogger,
  trainRun,
} from '@voxseg/engine';
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
  logger?: EngineLogger;
}

/**
 * The BraTS 2021 winning recipe composed in code: train every (variant, fold), resuming any
 * that is already done, then predict the test cases with the ensemble of all models (sigmoid
 * probabilities averaged), post-process ET, write `.nii.gz` labels and score them.
 */
export async function runWinnerRecipe(o: RunRecipeOptions): Promise<EvaluationResult> {
  const logger = o.logger ?? silentLogger;
  const experiment = createEngineExperiment();
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
      const network = o.recipe.train.network?.name === variant ? o.recipe.train.network : { name: variant, options: { ...o.recipe.train.network?.options } };
      const config = resolveExperimentConfig([
        o.recipe.train,
        { dataset: { name: 'auto', options: { root: o.data } }, network, training: { fold, folds: o.recipe.folds, backend: o.backend ?? 'auto' } },
      ]);
      const r = await trainRun(config, { out, resume, logger, experiment });
      if (r.summary.reason !== 'completed') throw new Error(`${variant} fold ${fold}: ${r.summary.reason}`);
    }
  }

  await selectBackend(o.backend ?? 'auto');
  // Every model of every variant and fold, averaged (sigmoid probabilities), then scored.
  const predDir = path.join(o.out, 'predictions');
  await predictFolder({ runs, input: o.test, out: predDir, inference: o.recipe.inference, logger, experiment });
  const scored = await evaluateFolder({ pred: predDir, gt: o.test, logger, experiment });
  const result: EvaluationResult = { cases: scored.cases, mean: scored.mean };
  await fs.writeFile(path.join(o.out, 'metrics.json'), JSON.stringify(result, null, 2) + '\n');
  logger.info(`ensemble of ${runs.length} models on ${Object.keys(result.cases).length} test case(s): mean Dice ${Object.entries(result.mean).map(([r, m]) => `${r} ${m.dice?.toFixed(4)}`).join(', ')}`);
  return result;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}
