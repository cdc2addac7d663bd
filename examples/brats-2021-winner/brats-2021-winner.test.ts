import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthesizeDataset } from '@voxseg/plugin-data-brats';
import { afterAll, expect, it } from 'vitest';
import { TINY_RECIPE } from './src/recipe.js';
import { runWinnerRecipe } from './src/run-recipe.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-winner-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('trains BL and BL+L+GN on 5 folds each, ensembles the 10 models and scores the test cases', async () => {
  const data = path.join(work, 'data');
  const test = path.join(work, 'test');
  await synthesizeDataset(data, 5, 1, { shape: [24, 24, 20] });
  await synthesizeDataset(test, 1, 2, { shape: [24, 24, 20] });
  const out = path.join(work, 'out');
  const result = await runWinnerRecipe({ data, test, out, recipe: TINY_RECIPE });
  for (const v of ['BL', 'BL_L_GN']) for (let k = 0; k < 5; k++) expect(existsSync(path.join(out, v, `fold_${k}`, 'model', 'model.json'))).toBe(true);
  expect(existsSync(path.join(out, 'predictions', 'BraTS2021_00000.nii.gz'))).toBe(true);
  expect(Object.keys(result.mean)).toEqual(['WT', 'TC', 'ET']);
  for (const r of ['WT', 'TC', 'ET']) {
    expect(result.mean[r]!.dice).toBeGreaterThanOrEqual(0);
    expect(result.mean[r]!.dice).toBeLessThanOrEqual(1);
  }
}, 600_000);
