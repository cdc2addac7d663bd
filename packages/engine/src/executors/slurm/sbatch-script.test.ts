// The generated job scripts, read and run by a real bash (without Slurm: the array variables
// are set by hand). The task command is a tiny Node.js program that prints its arguments and
// exits with the status it is given, or with 3 when it receives SIGUSR1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutorTask } from '../task.js';
import { arrayScript, exitFilePath, shellQuote, singleJobScript } from './sbatch-script.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-sbatch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const program = [
  "const a = process.argv.slice(1); console.log('args:', JSON.stringify(a));",
  "if (a[0] === 'hold') { process.on('SIGUSR1', () => process.exit(3)); console.log('ready'); setInterval(() => {}, 1000); }",
  'else process.exit(Number(a[a.length - 1]) || 0);',
].join('\n');
const command = [process.execPath, '-e', program];
const slurmDir = path.join(work, 'slurm');
const tasks: ExecutorTask[] = [
  { name: 'ok', args: ['exit', '0'] },
  { name: "it's 5", args: ['exit', 'with space', '5'] },
  { name: 'resumable', args: ['train', '0'], resumeRun: path.join(work, 'run') },
  { name: 'held', args: ['hold'] },
];
const script = arrayScript(tasks, { jobName: 'voxseg-test', command, slurmDir, slurmOpts: ['--partition=gpu', '--gres=gpu:1', '--time=01:00:00'], signalSeconds: 120 });
const file = path.join(work, 'array.sbatch');
writeFileSync(file, script);
// A PATH with the few tools the script uses and no Slurm commands (so `scontrol requeue` fails
// the same way everywhere).
const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
const toolDir = path.join(work, 'bin');
mkdirSync(toolDir);
for (const tool of ['mkdir', 'mv', 'date', 'hostname', 'sleep']) {
  const where = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (where) symlinkSync(where, path.join(toolDir, tool));
}
const envFor = (index: number) => ({ ...process.env, SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: String(index), PATH: toolDir });

describe('arrayScript', () => {
  it('asks Slurm for the array, the signal, requeue and the user options', () => {
    const head = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(head).toEqual([
      '#SBATCH --job-name=voxseg-test',
      '#SBATCH --array=0-3',
      `#SBATCH --output=${path.join(slurmDir, 'logs', 'voxseg-test_%A_%a.log')}`,
      '#SBATCH --open-mode=append',
      '#SBATCH --requeue',
      '#SBATCH --signal=B:USR1@120',
      '#SBATCH --partition=gpu',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --time=01:00:00',
    ]);
    expect(spawnSync(bash, ['-n', file]).status).toBe(0);
  });

  it('runs the task of its index with its arguments and records the status', () => {
    const r = spawnSync(bash, [file], { env: envFor(1), encoding: 'utf8' });
    expect(r.status).toBe(5);
    expect(r.stdout).toContain(`args: ["exit","with space","5"]`);
    expect(r.stdout).toContain("voxseg: task it's 5 (job 77_1, restart 0)");
    expect(readFileSync(exitFilePath(slurmDir, '77_1'), 'utf8')).toBe('5\n');
    expect(spawnSync(bash, [file], { env: envFor(0) }).status).toBe(0);
    expect(readFileSync(exitFilePath(slurmDir, '77_0'), 'utf8')).toBe('0\n');
  });

  it('adds --resume once the run folder holds a run', () => {
    expect(spawnSync(bash, [file], { env: envFor(2), encoding: 'utf8' }).stdout).toContain('args: ["train","0"]');
    mkdirSync(path.join(work, 'run'), { recursive: true });
    writeFileSync(path.join(work, 'run', 'config.json'), '{}');
    expect(spawnSync(bash, [file], { env: envFor(2), encoding: 'utf8' }).stdout).toContain('args: ["train","0","--resume"]');
  });

  it('passes USR1 on to the task; status 3 asks for a requeue, and without Slurm says how to continue', async () => {
    const child = spawn(bash, [file], { env: envFor(3) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    while (!stdout.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGUSR1');
    expect(await code).toBe(3);
    expect(stdout).toContain('voxseg: task held: time-limit signal (USR1): saving the checkpoint');
    expect(stdout).toContain('requeueing job 77_3');
    // No scontrol on this PATH: the requeue fails and the status is kept for a resubmission.
    expect(stderr).toContain('voxseg: task held: scontrol requeue 77_3 failed; run the same voxseg command again to continue it');
    expect(readFileSync(exitFilePath(slurmDir, '77_3'), 'utf8')).toBe('3\n');
  });

  it('an index outside the array fails clearly', () => {
    const r = spawnSync(bash, [file], { env: envFor(9), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('voxseg: this job array has no task 9');
  });
});

describe('singleJobScript', () => {
  it('leaves the training-only options out and records its status', () => {
    const s = singleJobScript({ name: 'aggregate', args: ['x', '4'] }, { jobName: 'agg', command, slurmDir, slurmOpts: ['--partition=gpu', '--gres=gpu:1', '--gpus-per-node=2', '--time=01:00:00', '-G', '--signal=USR1'] });
    expect(s.split('\n').filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=agg',
      `#SBATCH --output=${path.join(slurmDir, 'logs', 'agg_%j.log')}`,
      '#SBATCH --open-mode=append',
      '#SBATCH --partition=gpu',
    ]);
    const f = path.join(work, 'single.sbatch');
    writeFileSync(f, s);
    expect(spawnSync(bash, [f], { env: { ...process.env, SLURM_JOB_ID: '88' } }).status).toBe(4);
    expect(readFileSync(exitFilePath(slurmDir, '88'), 'utf8')).toBe('4\n');
  });
});

describe('shellQuote', () => {
  it('quotes what bash would split or expand', () => {
    expect(shellQuote('BL+L+GN/fold_0')).toBe('BL+L+GN/fold_0');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote('')).toBe("''");
  });
});
