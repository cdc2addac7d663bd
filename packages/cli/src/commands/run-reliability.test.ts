// Issue 15's run-folder failures, reproduced through the real `voxseg` binary (built by
// `npm test`'s pretest) and, where a fault must be injected, through runCli in-process:
// one writer per run folder, resume keeps the saved settings, Ctrl-C exits 130, no silent
// fallback to a checkpoint, and disk errors that name the user's path.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_LOCK_FILE, setWriteDirStageHook } from '@voxseg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../program.js';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-reliability-'));
const data = path.join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const env = { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' };
function voxseg(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** Start `voxseg` without waiting; resolves with its exit code and output. */
function start(...args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('voxseg:'));
/** The complete lines of a run's events.jsonl (a live run may be writing the last one). */
const events = (run: string) =>
  readFileSync(path.join(run, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const TINY = ['--folds', '2', '--patch', '16', '--base-filters', '4', '--max-filters', '8', '--stages', '2', '--iterations', '1', '--val-iterations', '1', '--batch', '1', '--data-workers', '0'];

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  expect(voxseg('synth', '--out', data, '--cases', '3', '--seed', '3', '--shape', '20,20,16').code).toBe(0);
}, 120_000);

describe('one writer per run folder (issue 15, item 3)', () => {
  it('two trainings started together into the same folder: exactly one runs, the other refuses naming the holder', async () => {
    const run = path.join(work, 'together');
    // 30 iterations per epoch: the winner must still be training when the other process gets
    // to its lock, even when a loaded machine delays one start by seconds (with TINY's one
    // iteration the winner could finish first, and the loser then met a finished run instead).
    const a = start('train', '--data', data, '--out', run, '--epochs', '2', ...TINY, '--iterations', '30');
    const b = start('train', '--data', data, '--out', run, '--epochs', '2', ...TINY, '--iterations', '30');
    const results = await Promise.all([a.done, b.done]);
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map((r) => r.stderr).join('\n')).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1)!;
    expect(errorLines(loser.stderr)).toHaveLength(1);
    expect(loser.stderr).toMatch(new RegExp(`is in use by train pid \\d+ on ${hostname()} since \\d{4}-`));
    const evs = events(run);
    expect(new Set(evs.map((e) => e.runId)).size).toBe(1);
    expect(evs.filter((e) => e.type === 'runStart')).toHaveLength(1);
    expect(evs.filter((e) => e.type === 'epochEnd')).toHaveLength(2);
    expect(existsSync(path.join(run, RUN_LOCK_FILE))).toBe(false); // released on exit
  }, 300_000);

  it('a --resume into a live run refuses; the live run ends with its own epochs only', async () => {
    const run = path.join(work, 'live');
    // Long enough to be alive during the checks; stopped with Ctrl-C afterwards.
    const live = start('train', '--data', data, '--out', run, '--epochs', '500', ...TINY);
    await until('the first epoch', () => existsSync(path.join(run, 'events.jsonl')) && events(run).some((e) => e.type === 'epochEnd'));
    const second = voxseg('train', '--data', data, '--out', run, '--resume');
    expect(second.code).toBe(1);
    expect(errorLines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toMatch(/is in use by train pid \d+/);
    // predict into the same folder is refused too.
    const p = voxseg('predict', '--run', run, '--checkpoint', 'last', '--input', data, '--out', run);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/--out .* is in use by train pid/);
    live.child.kill('SIGINT');
    expect((await live.done).code).toBe(130);
    const evs = events(run);
    expect(evs.filter((e) => e.type === 'runStart')).toHaveLength(1);
    expect(evs.filter((e) => e.type === 'epochEnd')).toHaveLength(evs.at(-1)!.epochsCompleted as number);
    expect(new Set(evs.map((e) => e.runId)).size).toBe(1);
  }, 300_000);

  it('cv and predict refuse a folder locked by a live process; a stale lock is taken over with a warning', () => {
    const cv = path.join(work, 'cv-locked');
    mkdirSync(cv);
    writeFileSync(path.join(cv, RUN_LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'train', token: 't' }));
    const r = voxseg('cv', '--data', data, '--out', cv, '--folds', '2', ...TINY);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`voxseg: ${cv} is in use by train pid 1 on ${hostname()} since 2026-01-01T00:00:00.000Z; wait for it to finish, or choose another folder (if no such process runs, delete ${path.join(cv, RUN_LOCK_FILE)})`]);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const stale = path.join(work, 'stale-run');
    mkdirSync(stale);
    writeFileSync(path.join(stale, RUN_LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'train', token: 't' }));
    const t = voxseg('train', '--data', data, '--out', stale, '--epochs', '1', ...TINY);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(new RegExp(`taking over a stale lock of train pid ${dead}`));
    expect(existsSync(path.join(stale, RUN_LOCK_FILE))).toBe(false);
  }, 300_000);
});

describe('resume keeps the saved settings (issue 15, item 4)', () => {
  const run = path.join(work, 'one-epoch');
  it('--resume without --epochs on a finished 1-epoch run does not train on', () => {
    expect(voxseg('train', '--data', data, '--out', run, '--epochs', '1', ...TINY).code).toBe(0);
    const r = voxseg('train', '--data', data, '--out', run, '--resume', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ reason: 'completed', epochs: 1 });
    const evs = events(run);
    const starts = evs.filter((e) => e.type === 'runStart');
    expect(starts).toHaveLength(2);
    expect(starts[1]).toMatchObject({ resumed: true, startEpoch: 1, epochs: 1 });
    expect(evs.slice(evs.indexOf(starts[1]!)).filter((e) => e.type === 'batchEnd')).toHaveLength(0);
    expect(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'))).toMatchObject({ training: { epochs: 1, patch: 16 }, network: { options: { baseFilters: 4 } } });
  }, 300_000);

  it('a change that breaks exactness is refused in one line naming it, and taken with --force saying what changed', () => {
    const refused = voxseg('train', '--data', data, '--out', run, '--resume', '--epochs', '2', '--patch', '24');
    expect(refused.code).toBe(1);
    expect(errorLines(refused.stderr)).toEqual([
      `voxseg: --resume: ${run} was started with --epochs 1, --patch 16; given --epochs 2, --patch 24: the resumed run would not be the one started; drop the flag(s) to continue it as saved, or pass --force to continue with the change`,
    ]);
    // The same value as saved is no change; a setting that keeps exactness may change.
    const same = voxseg('train', '--data', data, '--out', run, '--resume', '--epochs', '1', '--data-workers', '1');
    expect(same.code, same.stderr).toBe(0);
    const forced = voxseg('train', '--data', data, '--out', run, '--resume', '--epochs', '2', '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/--force: resuming .* with changed settings \(--epochs 1 -> 2\)/);
    expect(JSON.parse(forced.stdout.trim().split('\n').pop()!)).toMatchObject({ reason: 'completed', epochs: 2 });
  }, 300_000);
});

describe('Ctrl-C and unfinished runs (issue 15, item 6)', () => {
  it('SIGINT stops a training with exit 130; predict then refuses the unfinished run unless --checkpoint', async () => {
    const run = path.join(work, 'interrupted');
    const t = start('train', '--data', data, '--out', run, '--epochs', '200', ...TINY);
    await until('the first epoch', () => existsSync(path.join(run, 'events.jsonl')) && events(run).some((e) => e.type === 'epochEnd'));
    t.child.kill('SIGINT');
    const r = await t.done;
    expect(r.code).toBe(130);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/training interrupted after \d+ epoch\(s\); the run is unfinished.*--resume/);
    expect(events(run).at(-1)).toMatchObject({ type: 'runEnd', reason: 'stopped' });
    expect(existsSync(path.join(run, RUN_LOCK_FILE))).toBe(false);
    const out = path.join(work, 'pred-unfinished');
    const p = voxseg('predict', '--run', run, '--input', data, '--out', out);
    expect(p.code).toBe(1);
    expect(errorLines(p.stderr)).toHaveLength(1);
    expect(p.stderr).toMatch(/no final model .*unfinished.*--checkpoint last\|best/);
    const withLast = voxseg('predict', '--run', run, '--input', data, '--out', out, '--checkpoint', 'last', '--json');
    expect(withLast.code, withLast.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.nii.gz'))).toHaveLength(3);
  }, 300_000);
});

describe('disk and OS errors name the user path (issue 15, item 6)', () => {
  it('a failed final model write ends the run with runEnd error and exit 1, and predict does not fall back to checkpoints/final', async () => {
    const run = path.join(work, 'full-disk');
    const modelDir = path.join(run, 'model');
    // A full disk while copying the final model: the write fails with ENOSPC.
    setWriteDirStageHook((stage, dir) => {
      if (dir === modelDir && stage === 'filling') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
    let code: number;
    const level = process.env.VOXSEG_LOG_LEVEL;
    process.env.VOXSEG_LOG_LEVEL = 'silent';
    try {
      code = await runCli(['node', 'voxseg', 'train', '--data', data, '--out', run, '--epochs', '1', ...TINY, '--backend', 'cpu'], io);
    } finally {
      setWriteDirStageHook(null);
      if (level === undefined) delete process.env.VOXSEG_LOG_LEVEL;
      else process.env.VOXSEG_LOG_LEVEL = level;
    }
    expect(code).toBe(1);
    expect(errorLines(err.join(''))).toHaveLength(1);
    expect(err.join('')).toContain(`${modelDir}: cannot write the final model: no space left on the device; free some space or choose a folder on another disk (ENOSPC)`);
    expect(events(run).at(-1)).toMatchObject({ type: 'runEnd', reason: 'error' });
    expect(events(run).some((e) => e.type === 'runEnd' && e.reason === 'completed')).toBe(false);
    expect(readdirSync(run).filter((n) => n.includes('model'))).toEqual([]); // no model, no model.tmp-*
    expect(existsSync(path.join(run, 'checkpoints', 'final', 'model.json'))).toBe(true);
    const p = voxseg('predict', '--run', run, '--input', data, '--out', path.join(work, 'pred-full'));
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/no final model .*its final write failed.*--checkpoint last\|best\|final/);
  }, 300_000);

  it('predict --report that cannot write an overlay names that file', () => {
    const out = path.join(work, 'pred-report');
    mkdirSync(out);
    writeFileSync(path.join(out, 'report'), 'a file where the report folder goes');
    const r = voxseg('predict', '--run', path.join(work, 'one-epoch'), '--input', data, '--out', out, '--report');
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`voxseg: ${path.join(out, 'report', 'BraTS2021_00000.png')}: cannot write: a part of the path is a file, a folder was expected; check the path (ENOTDIR)`]);
    expect(existsSync(path.join(out, RUN_LOCK_FILE))).toBe(false);
  }, 120_000);

  it('evaluate --out on a folder or an unwritable place names the user path, not a temporary file', () => {
    const pred = path.join(work, 'eval-pred');
    mkdirSync(pred);
    const seg = path.join(data, 'BraTS2021_00000', 'BraTS2021_00000_seg.nii.gz');
    writeFileSync(path.join(pred, 'BraTS2021_00000.nii.gz'), readFileSync(seg));
    const folder = path.join(work, 'a-folder');
    mkdirSync(path.join(folder, 'x'), { recursive: true });
    const r = voxseg('evaluate', '--pred', pred, '--gt', data, '--out', folder);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`voxseg: ${folder}: cannot write: is a folder, a file was expected; give a file path (EISDIR)`]);
    const proc = voxseg('evaluate', '--pred', pred, '--gt', data, '--out', '/proc/voxseg-eval.json');
    expect(proc.code).toBe(1);
    expect(errorLines(proc.stderr)).toHaveLength(1);
    expect(proc.stderr).toMatch(/^voxseg: \/proc\/voxseg-eval\.json: cannot write: /m);
    expect(proc.stderr).not.toMatch(/\.tmp/);
  }, 120_000);
});
