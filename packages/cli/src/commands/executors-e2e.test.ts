// The executors through the real `voxseg` binary, without a cluster: a training stopped by
// SIGUSR1 (Slurm's time-limit warning) and resumed ends bit-identical to an uninterrupted
// one; `predict --parts P --part i` merges into the one-process output byte for byte and
// skips finished cases; `--executor slurm` without Slurm's commands is one clear line.
// Tiny sizes (patch 16, 4 base filters); the Slurm suite is slurm-cluster.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_TIME_LIMIT } from '@voxseg/engine';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-executors-'));
const data = path.join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' };

function voxseg(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...env, ...extraEnv } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('voxseg:'));
// 2 epochs x 4 iterations: long enough to be interrupted in the middle.
const TRAIN = ['--folds', '2', '--epochs', '2', '--iterations', '4', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--data-workers', '0'];

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  expect(voxseg(['synth', '--out', data, '--cases', '5', '--seed', '3', '--shape', '24,24,20']).code).toBe(0);
}, 120_000);

/** Resolves when `file` holds a line matching `pattern`. */
async function waitForLine(file: string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (existsSync(file) && pattern.test(readFileSync(file, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern} in ${file}`);
}

describe('time-limit signal (SIGUSR1)', () => {
  it('stops after the current iteration with status 3, and --resume ends bit-identical to an uninterrupted run', async () => {
    const whole = path.join(work, 'whole');
    const cut = path.join(work, 'cut');
    expect(voxseg(['train', '--data', data, '--out', whole, ...TRAIN]).code).toBe(0);

    const child = spawn(process.execPath, [bin, 'train', '--data', data, '--out', cut, ...TRAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await waitForLine(path.join(cut, 'events.jsonl'), /"type":"batchEnd"/);
    child.kill('SIGUSR1');
    const code = await exited;
    expect(code, stderr).toBe(EXIT_TIME_LIMIT);
    expect(errorLines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/stopped at the time-limit signal \(SIGUSR1\).*--resume/);
    const events = readFileSync(path.join(cut, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'runEnd', reason: 'stopped', message: 'time-limit signal (SIGUSR1)' });
    // Stopped in the middle: fewer than the 8 iterations were done.
    expect(events.filter((e) => e.type === 'batchEnd').length).toBeLessThan(8);
    expect(existsSync(path.join(cut, 'checkpoints', 'last', 'weights.bin'))).toBe(true);

    const resumed = voxseg(['train', '--data', data, '--out', cut, ...TRAIN, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const f of ['weights.bin', 'optimizer.bin']) {
      expect(readFileSync(path.join(cut, 'checkpoints', 'final', f)).equals(readFileSync(path.join(whole, 'checkpoints', 'final', f))), f).toBe(true);
    }
    expect(readFileSync(path.join(cut, 'metrics.json'), 'utf8')).toBe(readFileSync(path.join(whole, 'metrics.json'), 'utf8'));
  }, 300_000);

  it('voxseg cv in this process: a fold stopped by SIGUSR1 ends the cv with status 3', async () => {
    const out = path.join(work, 'cv-usr1');
    const child = spawn(process.execPath, [bin, 'cv', '--data', data, '--out', out, ...TRAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await waitForLine(path.join(out, 'fold_0', 'events.jsonl'), /"type":"batchEnd"/);
    child.kill('SIGUSR1');
    expect(await exited, stderr).toBe(EXIT_TIME_LIMIT);
    expect(errorLines(stderr)).toEqual([`voxseg: ${out}: a fold stopped at the time-limit signal (SIGUSR1) with its checkpoint saved; rerun the same voxseg cv to continue`]);
    expect(existsSync(path.join(out, 'fold_0', 'checkpoints', 'last', 'weights.bin'))).toBe(true);
    expect(existsSync(path.join(out, 'fold_1'))).toBe(false);
  }, 300_000);
});

describe('predict --parts P --part i', () => {
  it('parts merge into the one-process output byte for byte; finished cases are skipped', () => {
    const run = path.join(work, 'whole');
    const one = path.join(work, 'pred-one');
    const parts = path.join(work, 'pred-parts');
    expect(voxseg(['predict', '--run', run, '--input', data, '--out', one]).code).toBe(0);
    const jsons = [0, 1, 2].map((i) => {
      const r = voxseg(['predict', '--run', run, '--input', data, '--out', parts, '--parts', '3', '--part', String(i), '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    });
    // sorted ids [0..4]: part 0 takes 0 and 3, part 1 takes 1 and 4, part 2 takes 2.
    expect(jsons.map((j) => j.cases)).toEqual([2, 2, 1]);
    const files = readdirSync(one).filter((f) => f.endsWith('.nii.gz')).sort();
    expect(files).toHaveLength(5);
    expect(readdirSync(parts).filter((f) => f.endsWith('.nii.gz')).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(parts, f)).equals(readFileSync(path.join(one, f))), f).toBe(true);

    // A rerun of a finished part writes nothing.
    const before = statSync(path.join(parts, files[0]!)).mtimeMs;
    const again = voxseg(['predict', '--run', run, '--input', data, '--out', parts, '--parts', '3', '--part', '0', '--json']);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ cases: 0, skipped: 2 });
    expect(statSync(path.join(parts, files[0]!)).mtimeMs).toBe(before);
  }, 300_000);

  it('a bad part is one line naming the flag', () => {
    const r = voxseg(['predict', '--run', path.join(work, 'whole'), '--input', data, '--out', path.join(work, 'p-bad'), '--parts', '3', '--part', '3']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['voxseg: --part: expected an integer from 0 to 2 (--parts 3), got 3']);
  });
});

describe('--executor slurm without Slurm', () => {
  // A PATH with no Slurm commands on it (the tasks' node is found by its absolute path).
  const noSlurm = () => mkdtempSync(path.join(work, 'empty-path-'));
  it('sbatch missing: one clear line, nothing trained', () => {
    const out = path.join(work, 'cv-no-slurm');
    const r = voxseg(['cv', '--data', data, '--out', out, ...TRAIN, '--executor', 'slurm'], { PATH: noSlurm() });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/voxseg: sbatch not found on PATH: --executor slurm needs Slurm's client commands/);
    expect(existsSync(path.join(out, 'fold_0'))).toBe(false);
  });
  it('--dry-run prints the scripts without Slurm', () => {
    const r = voxseg(['cv', '--data', data, '--out', path.join(work, 'cv-dry'), ...TRAIN, '--variants', 'BL,BL+GN', '--executor', 'slurm', '--slurm-opt=--gres=gpu:1', '--dry-run'], { PATH: noSlurm() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/#SBATCH --array=0-3\n/);
    expect(r.stdout).toMatch(/#SBATCH --signal=B:USR1@600\n/);
    expect(r.stdout).toMatch(/#SBATCH --gres=gpu:1\n/);
    expect(r.stdout).toMatch(/sbatch --parsable --dependency=afterok:\$ARRAY --kill-on-invalid-dep=yes/);
    expect(r.stdout).toMatch(/3\) TASK=BL\+GN\/fold_1;/);
    expect(existsSync(path.join(work, 'cv-dry'))).toBe(false);
  });
  it.skipIf(spawnSync('sbatch', ['--version']).error !== undefined)('a cluster that cannot be reached: one line saying what to check', () => {
    // A controller port nobody listens on: sbatch gives up after its retries (about 9 s).
    const conf = path.join(work, 'nowhere.conf');
    writeFileSync(conf, 'ClusterName=nowhere\nSlurmctldHost=localhost\nSlurmctldPort=6999\nAuthType=auth/munge\nNodeName=localhost CPUs=1 State=UNKNOWN\nPartitionName=p Nodes=localhost Default=YES\n');
    const r = voxseg(['predict', '--run', path.join(work, 'whole'), '--input', data, '--out', path.join(work, 'p-unreachable'), '--parts', '2', '--executor', 'slurm'], {
      SLURM_CONF: conf,
    });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/voxseg: sbatch: cannot reach the Slurm controller \(.*\); check that the cluster is up \(sinfo\) and that SLURM_CONF points at its slurm.conf/);
  });
});
