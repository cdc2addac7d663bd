// An nnU-Net v2 raw dataset end to end through the real `voxseg` binary, with nothing named:
// the folder is detected as `nnunet` (dataset.json), trained on, its imagesTs predicted and the
// predictions scored against labelsTs, per region of dataset.json; a flat folder of images with no
// dataset.json predicted through the copy the run kept. Tiny sizes.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti } from '@voxseg/plugin-data-brats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-nnunet-e2e-'));
const data = path.join(work, 'Dataset137_BraTS2021');
const run = path.join(work, 'run');
const pred = path.join(work, 'pred');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function voxseg(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastJson: () => JSON.parse(r.stdout.trim().split('\n').pop()!) };
}
const REGIONS = ['whole tumor', 'tumor core', 'enhancing tumor'];

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  const r = voxseg('synth', '--layout', 'nnunet', '--out', data, '--cases', '5', '--test-cases', '2', '--seed', '1', '--shape', '24,24,16');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('voxseg on an nnU-Net-format dataset', () => {
  it('train detects the nnunet dataset and trains on its regions', () => {
    const r = voxseg('train', '--data', data, '--out', run, '--epochs', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--iterations', '2', '--val-iterations', '1', '--batch', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lastJson().reason).toBe('completed');
    const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
    expect(config.dataset.name).toBe('nnunet');
    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].plugins).toContainEqual(expect.objectContaining({ name: '@voxseg/plugin-data-nnunet' }));
    const metrics = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics.mean)).toEqual(REGIONS);
  }, 300_000);

  it('predict takes imagesTs (a flat folder of <case>_XXXX images) and writes <case>.nii.gz with labels 0..3', async () => {
    const r = voxseg('predict', '--run', run, '--input', path.join(data, 'imagesTs'), '--out', pred, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(pred).filter((f) => f.endsWith('.nii.gz')).sort()).toEqual(['BraTS2021_00005.nii.gz', 'BraTS2021_00006.nii.gz']);
    for (const id of ['BraTS2021_00005', 'BraTS2021_00006']) {
      const p = await readNifti(path.join(pred, `${id}.nii.gz`), { as: 'native' });
      const img = await readNifti(path.join(data, 'imagesTs', `${id}_0000.nii.gz`));
      expect(p.shape).toEqual(img.shape);
      expect(p.affine).toEqual(img.affine);
      expect(Array.from(p.data).every((v) => v >= 0 && v <= 3)).toBe(true);
    }
  }, 300_000);

  it('predict takes a flat folder with no dataset.json anywhere near: the run kept a copy', async () => {
    expect(readFileSync(path.join(run, 'dataset.json'), 'utf8')).toBe(readFileSync(path.join(data, 'dataset.json'), 'utf8'));
    const alone = path.join(work, 'elsewhere', 'cases');
    mkdirSync(alone, { recursive: true });
    for (const f of readdirSync(path.join(data, 'imagesTs'))) copyFileSync(path.join(data, 'imagesTs', f), path.join(alone, f));
    expect(existsSync(path.join(alone, 'dataset.json')) || existsSync(path.join(alone, '..', 'dataset.json'))).toBe(false);
    const out = path.join(work, 'pred-alone');
    const r = voxseg('predict', '--run', run, '--input', alone, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    // The same model and inputs as from imagesTs: the same label maps.
    for (const id of ['BraTS2021_00005', 'BraTS2021_00006']) {
      const [a, b] = await Promise.all([readNifti(path.join(out, `${id}.nii.gz`), { as: 'native' }), readNifti(path.join(pred, `${id}.nii.gz`), { as: 'native' })]);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    }
  }, 300_000);

  it('evaluate scores the predictions against labelsTs per region of dataset.json', () => {
    const out = path.join(work, 'evaluation.json');
    const r = voxseg('evaluate', '--pred', pred, '--gt', path.join(data, 'labelsTs'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(result.cases).sort()).toEqual(['BraTS2021_00005', 'BraTS2021_00006']);
    expect(Object.keys(result.mean)).toEqual(REGIONS);
    for (const region of REGIONS) {
      const dice = result.mean[region].dice;
      expect(dice).toBeGreaterThanOrEqual(0);
      expect(dice).toBeLessThanOrEqual(1);
    }
    // The dataset folder itself works as the reference too (labelsTs after labelsTr).
    const again = voxseg('evaluate', '--pred', pred, '--gt', data, '--out', path.join(work, 'evaluation2.json'));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(work, 'evaluation2.json'), 'utf8')).mean).toEqual(result.mean);
  }, 300_000);
});
