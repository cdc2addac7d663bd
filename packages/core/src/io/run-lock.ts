import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureDirSync } from './ensure-dir.js';

/** Name of the lock file inside a folder that a voxseg command writes into. */
export const RUN_LOCK_FILE = '.voxseg.lock';

/** What a lock file holds (JSON): who writes into the folder, since when. */
export interface RunLockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The command holding it, e.g. `train` (informative). */
  command: string;
  /** Random token: tells this process's lock from a later one by the same pid. */
  token: string;
}

/** A held lock; {@link RunLock.release} is idempotent. */
export interface RunLock {
  readonly path: string;
  readonly holder: RunLockHolder;
  /** Delete the lock file (only if it is still this process's). */
  release(): void;
}

/** Thrown when another live process holds the folder. `holder` is null when the file is unreadable. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(message: string, readonly lockPath: string, readonly holder: RunLockHolder | null) {
    super(message);
  }
}

export interface AcquireRunLockOptions {
  /** Recorded in the lock file and in a refusal. Default `voxseg`. */
  command?: string;
  /** Receives the warning when a stale lock (dead process on this host) is taken over. */
  onWarning?: (message: string) => void;
}

/**
 * Take the lock of folder `dir` (created if missing): one writer per run folder.
 *
 * The lock is the file `<dir>/.voxseg.lock`, created with O_EXCL (`wx`), so of two processes
 * starting together exactly one creates it; it holds `{pid, host, since, command, token}`.
 * When the file exists:
 * - its process is alive, or runs on another host (which cannot be checked from here): a
 *   {@link RunLockedError} naming the holder (pid, host, since) and the lock file;
 * - its process is dead on this host (`kill(pid, 0)` answers ESRCH: it crashed or was killed
 *   with SIGKILL): the stale lock is taken over, with a warning. The stale file is first
 *   renamed to a name unique to this process, so of two processes taking over the same stale
 *   lock only one succeeds; the other then sees the new holder and refuses.
 *
 * The lock is released by {@link RunLock.release} (call it in a `finally`) and, as a safety
 * net, when the process exits (`process.on('exit')`, which also covers `process.exit()`).
 * A process killed by a signal leaves the file behind: the next writer takes it over as stale.
 */
export function acquireRunLock(dir: string, options: AcquireRunLockOptions = {}): RunLock {
  ensureDirSync(dir);
  const path = join(dir, RUN_LOCK_FILE);
  const holder: RunLockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    command: options.command ?? 'voxseg',
    token: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, holder)) return heldLock(path, holder);
    const current = readHolder(path);
    if (current === undefined) continue; // released between our create and read: try again
    if (current === null || !isStale(current)) throw lockedError(dir, path, current);
    if (takeOverStale(path, current)) {
      options.onWarning?.(
        `${path}: taking over a stale lock of ${current.command} pid ${current.pid} on ${current.host} (since ${current.since}): that process no longer runs`,
      );
    }
  }
  throw lockedError(dir, path, readHolder(path) ?? null);
}

/** Who holds the lock of `dir`, or null when it is free. */
export function readRunLock(dir: string): RunLockHolder | null {
  return readHolder(join(dir, RUN_LOCK_FILE)) ?? null;
}

function tryCreate(path: string, holder: RunLockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The holder; undefined when there is no lock file; null when it cannot be parsed. */
function readHolder(path: string): RunLockHolder | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const h = JSON.parse(text) as RunLockHolder;
    return Number.isInteger(h?.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    // A lock file is written in one small write right after its O_EXCL creation: an empty
    // file means its writer is between those two steps (or died there).
    return null;
  }
}

/** A dead process on this host. Another host's process cannot be checked: never stale. */
function isStale(h: RunLockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Remove the stale lock `seen`; false when someone else changed it meanwhile. */
function takeOverStale(path: string, seen: RunLockHolder): boolean {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = readHolder(aside);
  if (moved && moved.token === seen.token && moved.pid === seen.pid && moved.since === seen.since) {
    unlinkSync(aside);
    return true;
  }
  // We moved a lock that another process had just taken: put it back (link fails if a third
  // process created one meanwhile, which then holds the folder).
  try {
    linkSync(aside, path);
  } catch {
    /* the folder is held by the process that created the lock */
  }
  unlinkSync(aside);
  return false;
}

function lockedError(dir: string, path: string, h: RunLockHolder | null): RunLockedError {
  const who = h ? `${h.command} pid ${h.pid} on ${h.host} since ${h.since}` : 'another process (unreadable lock file)';
  return new RunLockedError(
    `${dir} is in use by ${who}; wait for it to finish, or choose another folder (if no such process runs, delete ${path})`,
    path,
    h,
  );
}

function heldLock(path: string, holder: RunLockHolder): RunLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only our own lock: after a stale takeover by another process, the file is theirs.
    if (readHolder(path)?.token === holder.token) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', release);
  return { path, holder, release };
}
