// `voxseg train`, `predict` and `evaluate` end to end on `--backend webgpu`, through the real
// binary (built by `npm test`'s pretest). This suite belongs to the `webgpu` Vitest project
// (vitest.config.ts): in CI Dawn runs on Chromium's SwiftShader, so every WebGPU validation
// error of the training and inference paths fails it (backend-webgpu turns them into
// exceptions). Tiny sizes: SwiftShader compiles every shader on the CPU. Without an adapter the
// suite skips, saying why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerWebGPUBackend } from '@voxseg/backend-webgpu';
import { readNifti } from '@voxseg/plugin-data-brats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const status = await registerWebGPUBackend();
if (!status.available) console.warn(`webgpu CLI suite skipped: ${status.reason}`);

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-webgpu-e2e-'));
const data = path.join(work, 'data');
const test = path.join(work, 'test');
const run = path.join(work, 'run');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function voxseg(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastJson: () => JSON.parse(r.stdout.trim().split('\n').pop()!) };
}
/** The run's failure in one line, for the assertion message. */
const why = (r: ReturnType<typeof voxseg>) => r.stderr.split('\n').filter((l) => /voxseg:|error/i.test(l)).join(' | ');

// One iteration of batch 1 at patch 16, three stages, 4 base filters, no data worker thread.
const TINY = ['--epochs', '1', '--iterations', '1', '--val-iterations', '1', '--batch', '1', '--patch', '16', '--stages', '3', '--base-filters', '4', '--max-filters', '16', '--folds', '3', '--data-workers', '0'];
const CASES = ['BraTS2021_00000', 'BraTS2021_00001'];

describe.skipIf(!status.available)('voxseg on --backend webgpu', () => {
  beforeAll(() => {
    expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
    expect(voxseg('synth', '--out', data, '--cases', '3', '--seed', '1', '--shape', '20,20,16').code).toBe(0);
    expect(voxseg('synth', '--out', test, '--cases', '2', '--seed', '2', '--shape', '20,18,16').code).toBe(0);
  }, 120_000);

  it('trains one epoch, predicts with the same labels as cpu, and evaluates to finite metrics', async () => {
    const t = voxseg('train', '--data', data, '--out', run, ...TINY, '--backend', 'webgpu', '--json');
    expect(t.code, why(t)).toBe(0);
    expect(t.lastJson()).toMatchObject({ reason: 'completed', epochs: 1, backend: 'webgpu' });
    for (const f of ['config.json', 'events.jsonl', 'metrics.json', 'model/model.json', 'model/weights.bin', 'checkpoints/final/model.json']) {
      expect(existsSync(path.join(run, f)), f).toBe(true);
    }
    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'runStart', backend: 'webgpu' });
    for (const e of events.filter((e) => e.type === 'batchEnd')) expect(Number.isFinite(e.loss), JSON.stringify(e)).toBe(true);
    const val = events.find((e) => e.type === 'validationEnd');
    expect(Number.isFinite(val.loss)).toBe(true);
    // metrics.json: the run's own whole-case validation (sliding window on webgpu).
    const metrics = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    for (const r of ['WT', 'TC', 'ET']) expect(Number.isFinite(metrics.mean[r].dice), r).toBe(true);

    // The same model predicted on webgpu and on cpu. No post-processing: the ET rule (fewer
    // than 200 voxels become NCR) would turn one borderline voxel into a whole region.
    // Also with 8-way test-time mirroring, which reverses rank-5 windows (tfjs-backend-webgpu's
    // own Reverse is wrong at rank 5; backend-webgpu runs it axis by axis).
    const predGpu = path.join(work, 'pred-webgpu');
    for (const tta of [[], ['--tta']]) {
      const outGpu = path.join(work, `pred-webgpu${tta.join('')}`);
      const outCpu = path.join(work, `pred-cpu${tta.join('')}`);
      const pg = voxseg('predict', '--run', run, '--input', test, '--out', outGpu, '--no-postprocess', ...tta, '--backend', 'webgpu', '--json');
      expect(pg.code, why(pg)).toBe(0);
      expect(pg.lastJson()).toMatchObject({ cases: 2, models: 1 });
      const pc = voxseg('predict', '--run', run, '--input', test, '--out', outCpu, '--no-postprocess', ...tta, '--backend', 'cpu');
      expect(pc.code, why(pc)).toBe(0);
      for (const id of CASES) {
        const g = await readNifti(path.join(outGpu, `${id}.nii.gz`), { as: 'native' });
        const c = await readNifti(path.join(outCpu, `${id}.nii.gz`), { as: 'native' });
        const img = await readNifti(path.join(test, id, `${id}_t1.nii.gz`));
        expect(g.shape).toEqual(img.shape);
        expect(g.affine).toEqual(img.affine);
        for (const v of new Set(g.data)) expect([0, 1, 2, 4]).toContain(v);
        // Probabilities agree to float32 rounding, so only a voxel within ~1e-6 of the 0.5
        // threshold may differ: allow 0.1% of the volume.
        let differ = 0;
        for (let i = 0; i < g.data.length; i++) if (g.data[i] !== c.data[i]) differ++;
        expect(differ, `${id}${tta.join('')}: ${differ} of ${g.data.length} voxels differ from cpu`).toBeLessThanOrEqual(Math.floor(g.data.length / 1000));
      }
    }

    const ev = voxseg('evaluate', '--pred', predGpu, '--gt', test, '--json');
    expect(ev.code, why(ev)).toBe(0);
    const json = ev.lastJson();
    expect(Object.keys(json.cases)).toEqual(CASES);
    for (const r of ['WT', 'TC', 'ET']) {
      expect(json.mean[r].dice).toBeGreaterThanOrEqual(0);
      expect(json.mean[r].dice).toBeLessThanOrEqual(1);
      expect(Number.isFinite(json.mean[r].hd95), `${r} hd95 ${json.mean[r].hd95}`).toBe(true);
    }
  }, 900_000);
});
