// End to end through the real `voxseg` binary (built by `npm test`'s pretest): synth, train,
// resume, predict (single and ensemble), evaluate, cv, and the bad-input contract (one line,
// non-zero exit, nothing lost). Tiny sizes; the backend is `auto` (native when built).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeCapabilities, registerNativeBackend } from '@voxseg/backend-native';
import { readNifti } from '@voxseg/plugin-data-brats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-cli-e2e-'));
const data = path.join(work, 'data');
const test = path.join(work, 'test');
const run = path.join(work, 'run');
const pred = path.join(work, 'pred');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function voxseg(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastJson: () => JSON.parse(r.stdout.trim().split('\n').pop()!) };
}
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('voxseg:'));
const native = registerNativeBackend();
const TINY = ['--patch', '16', '--base-filters', '4', '--max-filters', '16', '--iterations', '2', '--val-iterations', '1', '--batch', '2'];

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  expect(voxseg('synth', '--out', data, '--cases', '5', '--seed', '1', '--shape', '24,24,20').code).toBe(0);
  expect(voxseg('synth', '--out', test, '--cases', '2', '--seed', '2', '--shape', '24,24,20').code).toBe(0);
}, 120_000);

describe('voxseg train / predict / evaluate', () => {
  it('trains one fold and writes the run folder', () => {
    const r = voxseg('train', '--data', data, '--out', run, '--epochs', '2', ...TINY, '--json');
    expect(r.stderr).not.toMatch(/voxseg: /);
    expect(r.code).toBe(0);
    const summary = r.lastJson();
    expect(summary.reason).toBe('completed');
    for (const f of ['config.json', 'events.jsonl', 'splits.json', 'metrics.json', 'report.html', 'model/model.json', 'checkpoints/final/model.json', 'checkpoints/last/trainer-state.json', 'plots/loss.png', 'plots/loss.svg', 'plots/dice.png']) {
      expect(existsSync(path.join(run, f)), f).toBe(true);
    }
    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].type).toBe('runStart');
    expect(events.at(-1)).toMatchObject({ type: 'runEnd', reason: 'completed', epochsCompleted: 2 });
    expect(events.filter((e) => e.type === 'batchEnd')).toHaveLength(4);
    const metrics = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics)).toEqual(['cases', 'mean']);
    expect(Object.keys(metrics.mean)).toEqual(['WT', 'TC', 'ET']);
    expect(Object.keys(metrics.mean.WT)).toEqual(['dice', 'hd95']);
    const splits = JSON.parse(readFileSync(path.join(run, 'splits.json'), 'utf8'));
    expect(splits).toHaveLength(5);
  }, 300_000);

  it('refuses an existing run without --resume/--force, then resumes it', () => {
    const again = voxseg('train', '--data', data, '--out', run, '--epochs', '2', ...TINY);
    expect(again.code).toBe(1);
    expect(errorLines(again.stderr)).toHaveLength(1);
    expect(again.stderr).toMatch(/already holds a run.*--resume/);
    // More epochs change the run's schedule: refused on --resume alone, taken with --force.
    const extend = voxseg('train', '--data', data, '--out', run, '--epochs', '3', '--resume');
    expect(extend.code).toBe(1);
    expect(extend.stderr).toMatch(/was started with --epochs 2; given --epochs 3.*--force/);
    const resumed = voxseg('train', '--data', data, '--out', run, '--epochs', '3', '--resume', '--force', '--json');
    expect(resumed.code).toBe(0);
    expect(resumed.lastJson().epochs).toBe(3);
    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const starts = events.filter((e) => e.type === 'runStart');
    expect(starts).toHaveLength(2);
    expect(starts[1]).toMatchObject({ resumed: true, startEpoch: 2 });
  }, 300_000);

  it('predicts into the input grid and evaluates', async () => {
    const r = voxseg('predict', '--run', run, '--input', test, '--out', pred, '--report', '--json');
    expect(r.code).toBe(0);
    expect(r.lastJson()).toMatchObject({ cases: 2, models: 1 });
    for (const id of ['BraTS2021_00000', 'BraTS2021_00001']) {
      const p = await readNifti(path.join(pred, `${id}.nii.gz`), { as: 'native' });
      const img = await readNifti(path.join(test, id, `${id}_t1.nii.gz`));
      expect(p.shape).toEqual(img.shape);
      expect(p.affine).toEqual(img.affine);
      expect(p.header.datatype).toBe(2); // NIfTI uint8: labels are stored as bytes
      expect(new Set(p.data).size).toBeLessThanOrEqual(4);
      for (const v of new Set(p.data)) expect([0, 1, 2, 4]).toContain(v);
      expect(existsSync(path.join(pred, 'report', `${id}.png`))).toBe(true);
    }
    const ev = voxseg('evaluate', '--pred', pred, '--gt', test, '--json');
    expect(ev.code).toBe(0);
    const json = ev.lastJson();
    expect(Object.keys(json.cases)).toEqual(['BraTS2021_00000', 'BraTS2021_00001']);
    for (const r of ['WT', 'TC', 'ET']) {
      expect(json.mean[r].dice).toBeGreaterThanOrEqual(0);
      expect(json.mean[r].dice).toBeLessThanOrEqual(1);
      expect(json.mean[r].hd95).toBeGreaterThanOrEqual(0);
    }
    expect(ev.stdout).toMatch(/WT Dice/);
    expect(readFileSync(path.join(pred, 'evaluation.csv'), 'utf8').split('\n')[0]).toBe(
      'case,WT_dice,WT_hd95,WT_sensitivity,WT_specificity,TC_dice,TC_hd95,TC_sensitivity,TC_specificity,ET_dice,ET_hd95,ET_sensitivity,ET_specificity',
    );
    // A prediction equal to the ground truth scores Dice 1 and HD95 0.
    const gtAsPred = path.join(work, 'gt-as-pred');
    mkdirSync(gtAsPred);
    cpSync(path.join(test, 'BraTS2021_00000', 'BraTS2021_00000_seg.nii.gz'), path.join(gtAsPred, 'BraTS2021_00000.nii.gz'));
    const perfect = voxseg('evaluate', '--pred', gtAsPred, '--gt', test, '--json').lastJson();
    for (const r of ['WT', 'TC', 'ET']) expect(perfect.mean[r]).toEqual({ dice: 1, hd95: 0 });
  }, 300_000);

  it('--precision bf16: one line and exit 1 where the CPU has no bf16 (nothing written); the agreement check skips or runs', () => {
    const caps = native.available ? nativeCapabilities() : undefined;
    const out = path.join(work, 'pred-bf16');
    const r = voxseg('predict', '--run', run, '--input', test, '--out', out, '--precision', 'bf16', '--backend', 'native');
    if (caps && !caps.bf16) {
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toEqual([`voxseg: --precision bf16: this CPU has no bf16 convolutions (oneDNN ISA ${caps.isa}; needs AVX512-BF16 or AMX); use --precision fp32`]);
      expect(existsSync(out)).toBe(false);
    } else if (caps) {
      expect(r.code).toBe(0);
    }
    const bad = voxseg('predict', '--run', run, '--input', test, '--out', out, '--precision', 'fp16');
    expect(bad.code).toBe(1);
    expect(errorLines(bad.stderr)).toEqual(['voxseg: --precision: expected fp32 | bf16, got "fp16"']);
    if (!caps) return;
    const check = voxseg('bench', 'bf16-agreement', '--run', run, '--input', test, '--json');
    expect(check.code).toBe(0);
    if (!caps.bf16) {
      expect(check.stdout).toMatch(/^bf16-agreement: SKIPPED: this CPU has no bf16 convolutions/m);
      // The labelled emulation at this tiny size: same labels up to a few voxels.
      const emu = voxseg('bench', 'bf16-agreement', '--run', run, '--input', test, '--emulate', '--min-dice', '0.9', '--json');
      expect(emu.code, emu.stderr).toBe(0);
      expect(emu.stdout).toMatch(/NUMERICAL EMULATION/);
      const j = emu.lastJson();
      expect(j).toMatchObject({ skipped: false, mode: 'emulated-bf16', pass: true });
      expect(j.cases).toHaveLength(2);
      for (const r of ['WT', 'TC', 'ET']) expect(j.minDice[r]).toBeGreaterThanOrEqual(0.9);
    } else {
      expect(check.lastJson()).toMatchObject({ skipped: false, mode: 'bf16' });
    }
  });

  it('ensembles several runs, each with its own training patch', () => {
    const run24 = path.join(work, 'run-patch24');
    const t = voxseg('train', '--data', data, '--out', run24, '--epochs', '1', ...TINY.map((a) => (a === '16' ? '24' : a)));
    expect(t.code).toBe(0);
    const out = path.join(work, 'pred-ensemble');
    const r = voxseg('predict', '--run', `${run},${run24}`, '--input', test, '--out', out, '--tta', '--no-postprocess', '--json');
    expect(r.stderr).not.toMatch(/voxseg: /);
    expect(r.code).toBe(0);
    expect(r.lastJson()).toMatchObject({ cases: 2, models: 2 });
  }, 300_000);
});

describe('voxseg cv', () => {
  it('trains every fold and aggregates over all cases, then is resumable (done folds are skipped)', () => {
    const out = path.join(work, 'cv');
    const args = ['cv', '--data', data, '--out', out, '--folds', '2', '--epochs', '1', ...TINY.filter((_, i, a) => a[i] !== '--val-iterations' && a[i - 1] !== '--val-iterations'), '--json'];
    const r = voxseg(...args);
    expect(r.code).toBe(0);
    expect(Object.keys(r.lastJson().cases).sort()).toEqual(['BraTS2021_00000', 'BraTS2021_00001', 'BraTS2021_00002', 'BraTS2021_00003', 'BraTS2021_00004']);
    const again = voxseg(...args);
    expect(again.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['fold_0', 'fold_1', 'metrics.json']);
  }, 300_000);
});

describe('bad input: one line, non-zero exit', () => {
  const expectOneLine = (r: ReturnType<typeof voxseg>, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };
  it('unknown flag and unknown variant (lists the valid ones)', () => {
    expectOneLine(voxseg('train', '--data', data, '--out', path.join(work, 'x1'), '--bogus'), /unknown option '--bogus'/);
    expectOneLine(voxseg('train', '--data', data, '--out', path.join(work, 'x2'), '--variant', 'XL', ...TINY), /XL.*BL\+AA.*BL\+L\+GN/);
  });
  it('an empty data folder points to voxseg check', () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    expectOneLine(voxseg('train', '--data', empty, '--out', path.join(work, 'x3')), /no case folders found.*voxseg check --data/);
  });
  it('an invalid dataset is refused and named', () => {
    const bad = path.join(work, 'bad');
    cpSync(data, bad, { recursive: true });
    rmSync(path.join(bad, 'BraTS2021_00002', 'BraTS2021_00002_t2.nii.gz'));
    expectOneLine(voxseg('train', '--data', bad, '--out', path.join(work, 'x4'), ...TINY), /1 invalid case.*BraTS2021_00002.*voxseg check/);
  });
  it('a run folder without a model, and a model whose channels differ from the data', () => {
    const noModel = path.join(work, 'no-model');
    mkdirSync(noModel);
    expectOneLine(voxseg('predict', '--run', noModel, '--input', test, '--out', path.join(work, 'p1')), /no model found.*voxseg train/);
    const other = path.join(work, 'two-channel-model');
    cpSync(path.join(run, 'model'), other, { recursive: true });
    const modelJson = JSON.parse(readFileSync(path.join(other, 'model.json'), 'utf8'));
    modelJson.userDefinedMetadata.voxseg.inChannels = 2;
    writeFileSync(path.join(other, 'model.json'), JSON.stringify(modelJson));
    expectOneLine(voxseg('predict', '--run', other, '--input', test, '--out', path.join(work, 'p2')), /takes 2 input channels.*has 4 modalities/);
  });
  it('evaluate without ground truth for a case', () => {
    expectOneLine(voxseg('evaluate', '--pred', pred, '--gt', path.join(work, 'empty')), /no ground truth for case BraTS2021_00000/);
  });
  it('a bad flag value names the flag', () => {
    expectOneLine(voxseg('train', '--data', data, '--out', path.join(work, 'x5'), '--epochs', 'ten'), /--epochs: expected an integer, got "ten"/);
  });
});

describe('output folders that cannot be made', () => {
  it('fails in one line instead of hanging (Node 20 mkdir -p never returns under /proc)', () => {
    const r = voxseg('predict', '--run', run, '--input', test, '--out', '/proc/voxseg-cannot-exist');
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--out \/proc\/voxseg-cannot-exist: cannot create/);
    const t = voxseg('train', '--data', data, '--out', '/proc/voxseg-cannot-exist/run', ...TINY);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/cannot create the run folder/);
  }, 120_000);
});
