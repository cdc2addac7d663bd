// The Slurm executor on a real cluster: `scripts/slurm/start.sh` starts a one-node Slurm
// (CI does, in .ci/run). Without a cluster that answers, this suite is skipped with a message.
// Tiny sizes (patch 16, 4 base filters, 1-2 epochs of 2-4 iterations, 2 folds x 2 variants).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slurmCommand, submitSlurm, type SlurmWaitEvent, waitSlurm } from '@voxseg/engine';

// The cluster of scripts/slurm/start.sh when SLURM_CONF is not set.
const defaultConf = path.join(process.env.VOXSEG_SLURM_DIR ?? '/tmp/voxseg-slurm', 'slurm.conf');
if (!process.env.SLURM_CONF && existsSync(defaultConf)) process.env.SLURM_CONF = defaultConf;
const probe = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 20_000 });
const nodeState = probe.status === 0 ? probe.stdout.trim().split('\n')[0] ?? '' : '';
const up = /^(idle|mixed|allocated)/.test(nodeState);
if (!up) {
  console.warn(
    `Slurm suite skipped: no Slurm cluster answers here (${probe.error ? 'sinfo not found' : `sinfo: ${(probe.stderr || nodeState || 'no node').trim().split('\n')[0]}`}); start one with scripts/slurm/start.sh (as root)`,
  );
}

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-slurm-'));
const data = path.join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'info' };
function voxseg(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastJson: () => JSON.parse(r.stdout.trim().split('\n').pop()!) };
}
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('voxseg:'));
const TINY = ['--folds', '2', '--epochs', '1', '--iterations', '2', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--data-workers', '0'];

describe.skipIf(!up)('on a one-node Slurm cluster', () => {
  beforeAll(() => {
    expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
    expect(voxseg(['synth', '--out', data, '--cases', '4', '--seed', '5', '--shape', '24,24,20']).code).toBe(0);
  }, 120_000);

  it('runs a 3-task job array; sbatch --wait returns the failing task\'s status', async () => {
    const script = path.join(work, 'array.sh');
    writeFileSync(script, `#!/bin/bash\n#SBATCH --output=${work}/array_%a.log\necho task $SLURM_ARRAY_TASK_ID\n[ "$SLURM_ARRAY_TASK_ID" = 1 ] && exit 7\nexit 0\n`);
    const r = await slurmCommand('sbatch', ['--array=0-2', '--wait', '--parsable', script]);
    expect(r.code).toBe(7);
    for (const i of [0, 1, 2]) expect(readFileSync(path.join(work, `array_${i}.log`), 'utf8')).toBe(`task ${i}\n`);
  }, 120_000);

  it('cv over 2 folds x 2 variants as a job array + aggregation job gives the local executor\'s metrics', () => {
    const viaSlurm = voxseg(['cv', '--data', data, '--out', path.join(work, 'cv-slurm'), '--variants', 'BL,BL+GN', ...TINY, '--executor', 'slurm', '--wait', '--json']);
    expect(viaSlurm.code, viaSlurm.stderr).toBe(0);
    expect(viaSlurm.stderr).toMatch(/submitted job array \d+ \(4 task\(s\)\) and job \d+ after it \(aggregate\)/);
    expect(viaSlurm.stderr).toMatch(/task BL\+GN\/fold_1 \(job \d+_3\) finished with status 0; log: .*voxseg-cv_\d+_3\.log/);
    expect(viaSlurm.stderr).toMatch(/task aggregate \(job \d+\) finished with status 0/);
    const local = voxseg(['cv', '--data', data, '--out', path.join(work, 'cv-local'), '--variants', 'BL,BL+GN', ...TINY, '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(viaSlurm.lastJson()).toEqual(local.lastJson());
    for (const f of ['summary.json', 'BL/metrics.json', 'BL+GN/metrics.json', 'BL+GN/fold_1/metrics.json']) {
      expect(readFileSync(path.join(work, 'cv-slurm', f), 'utf8'), f).toBe(readFileSync(path.join(work, 'cv-local', f), 'utf8'));
    }
    expect(Object.keys(JSON.parse(readFileSync(path.join(work, 'cv-slurm', 'summary.json'), 'utf8')).variants)).toEqual(['BL', 'BL+GN']);
  }, 400_000);

  it('a failing task is reported by name, job id and log; the finished folds are kept and not rerun', () => {
    const r = voxseg(['cv', '--data', data, '--out', path.join(work, 'cv-slurm'), '--variants', 'BL,NOPE', ...TINY, '--executor', 'slurm', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/BL\/fold_0: done/);
    expect(r.stderr).toMatch(/submitted job array \d+ \(2 task\(s\)\)/);
    const failed = [...r.stderr.matchAll(/error: task (NOPE\/fold_[01]) \(job (\d+_[01])\) failed with exit status 1; log: (\S+)/g)];
    expect(failed.map((m) => m[1]).sort()).toEqual(['NOPE/fold_0', 'NOPE/fold_1']);
    for (const m of failed) expect(readFileSync(m[3]!, 'utf8')).toMatch(/voxseg: network: unknown network "NOPE"/);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(/^voxseg: cv: 2 of 2 task\(s\) did not finish \(first: task NOPE\/fold_\d \(job \d+_\d\) failed with exit status 1; log: .*\); the others are kept/);
  }, 300_000);

  it('predict --executor slurm --parts 3 writes what one process writes, byte for byte', () => {
    const run = path.join(work, 'cv-slurm', 'BL', 'fold_0');
    const one = path.join(work, 'pred-one');
    const parts = path.join(work, 'pred-slurm');
    expect(voxseg(['predict', '--run', run, '--input', data, '--out', one]).code).toBe(0);
    const r = voxseg(['predict', '--run', run, '--input', data, '--out', parts, '--parts', '3', '--executor', 'slurm', '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/submitted job array \d+ \(3 task\(s\)\)/);
    const files = readdirSync(one).filter((f) => f.endsWith('.nii.gz')).sort();
    expect(files).toHaveLength(4);
    expect(readdirSync(parts).filter((f) => f.endsWith('.nii.gz')).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(parts, f)).equals(readFileSync(path.join(one, f))), f).toBe(true);
  }, 300_000);

  // 12 iterations an epoch: the signal, sent after the first batch, must land while the task is
  // still training even when scancel is slow on a loaded machine.
  it('USR1 mid-training: the task checkpoints, requeues itself and ends equal to an uninterrupted run', async () => {
    const train = ['--folds', '2', '--epochs', '2', '--iterations', '12', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--data-workers', '0'];
    const whole = path.join(work, 'train-whole');
    const cut = path.join(work, 'train-requeued');
    const sub = await submitSlurm({
      jobName: 'voxseg-usr1',
      tasks: [{ name: 'BL/fold_0', args: ['train', '--data', data, '--out', cut, ...train], resumeRun: cut }],
      command: [process.execPath, bin],
      slurmDir: path.join(work, 'slurm-usr1'),
      env,
    });
    const uninterrupted = new Promise<number | null>((resolve) => {
      spawn(process.execPath, [bin, 'train', '--data', data, '--out', whole, ...train], { env, stdio: 'ignore' }).once('exit', resolve);
    });
    const events: SlurmWaitEvent[] = [];
    const waiting = waitSlurm(sub, { pollMs: 500, onEvent: (e) => events.push(e) });
    const task = `${sub.arrayJobId}_0`;
    const eventsFile = path.join(cut, 'events.jsonl');
    for (let t0 = Date.now(); !(existsSync(eventsFile) && readFileSync(eventsFile, 'utf8').includes('"batchEnd"')); ) {
      if (Date.now() - t0 > 120_000) throw new Error('the training task never started');
      await sleep(50);
    }
    // What Slurm does at --signal=B:USR1@<s> before the time limit: signal the batch shell.
    expect((await slurmCommand('scancel', ['--signal=USR1', '--batch', task])).code).toBe(0);
    // Slurm starts a requeued job again after its credential expiry (10 s on the test cluster,
    // set by scripts/slurm/start.sh; 2 minutes by default), then the task resumes.
    const outcome = await waiting;
    expect(outcome.tasks.map((t) => t.code)).toEqual([0]);
    expect(events.some((e) => e.kind === 'requeued' && e.restarts === 1)).toBe(true);
    const log = readFileSync(outcome.tasks[0]!.log, 'utf8');
    expect(log).toMatch(/time-limit signal \(USR1\): saving the checkpoint/);
    expect(log).toMatch(/requeueing job \d+_0/);
    expect(log).toMatch(/restart 1\)/);
    const runEvents = readFileSync(eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runEvents.filter((e) => e.type === 'runEnd').map((e) => e.reason)).toEqual(['stopped', 'completed']);
    expect(runEvents.filter((e) => e.type === 'runStart').map((e) => e.resumed)).toEqual([false, true]);
    expect(await uninterrupted).toBe(0);
    for (const f of ['weights.bin', 'optimizer.bin']) {
      expect(readFileSync(path.join(cut, 'checkpoints', 'final', f)).equals(readFileSync(path.join(whole, 'checkpoints', 'final', f))), f).toBe(true);
    }
  }, 300_000);
});
