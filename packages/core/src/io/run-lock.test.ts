import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, readRunLock, RUN_LOCK_FILE, RunLockedError } from './run-lock.js';

const root = mkdtempSync(join(tmpdir(), 'voxseg-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited (so `kill(pid, 0)` answers ESRCH). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('acquireRunLock', () => {
  it('creates the folder and a lock naming this process; a second writer is refused in one line naming the holder', () => {
    const dir = join(root, 'a', 'run');
    const lock = acquireRunLock(dir, { command: 'train' });
    const held = JSON.parse(readFileSync(join(dir, RUN_LOCK_FILE), 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, host: hostname(), command: 'train' });
    expect(Date.parse(held.since)).not.toBeNaN();
    let err: unknown;
    try {
      acquireRunLock(dir, { command: 'predict' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunLockedError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`${dir} is in use by train pid ${process.pid} on ${hostname()} since ${held.since}`);
    expect(message).toContain(join(dir, RUN_LOCK_FILE));
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(join(dir, RUN_LOCK_FILE))).toBe(false);
    acquireRunLock(dir).release();
  });

  it('takes over a stale lock (dead process on this host) with a warning', () => {
    const dir = join(root, 'stale');
    const pid = deadPid();
    acquireRunLock(dir).release();
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: '2020-01-01T00:00:00.000Z', command: 'train', token: 'x' }));
    const warnings: string[] = [];
    const lock = acquireRunLock(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`taking over a stale lock of train pid ${pid} on .* \\(since 2020-01-01.*no longer runs`));
    expect(readRunLock(dir)).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir)).toEqual([RUN_LOCK_FILE]); // the stale file is gone, not set aside
    lock.release();
  });

  it('never takes over a live process, nor one on another host', () => {
    const dir = join(root, 'live');
    acquireRunLock(dir).release();
    // pid 1 is alive on every host; another host cannot be checked from here.
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: 's', command: 'cv', token: 'y' }));
    expect(() => acquireRunLock(dir)).toThrow(/in use by cv pid 1 on/);
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', since: 's', command: 'train', token: 'z' }));
    expect(() => acquireRunLock(dir)).toThrow(/in use by train pid \d+ on elsewhere\.example since s/);
    // A lock another process took over is not deleted by the first holder's release.
    rmSync(join(dir, RUN_LOCK_FILE));
    const mine = acquireRunLock(dir);
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: 's', command: 'cv', token: 'other' }));
    mine.release();
    expect(readRunLock(dir)).toMatchObject({ token: 'other' });
  });
});
