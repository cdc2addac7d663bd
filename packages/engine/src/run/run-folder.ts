import { constants, existsSync, promises as fs, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.js';
import { acquireRunLock, describeFsError, RUN_LOCK_FILE, RunLockedError, type RunLock } from '@voxseg/core';
import type { EngineLogger } from '../host.js';

/**
 * Take the lock of a folder a command writes into (`<dir>/.voxseg.lock`, see core's
 * `acquireRunLock`), creating the folder. Another live writer is refused in one line naming
 * it; a stale lock is taken over with a warning. Release it in a `finally`; a folder this
 * call created is removed again on release if nothing was written into it.
 *
 * @param label how the folder is named in errors, e.g. `--out` (default: the path alone)
 * @param what what the folder is, for errors (`run folder`, `output folder`)
 */
export function lockRunFolder(dir: string, opts: { command: string; logger: EngineLogger; label?: string; what?: string }): RunLock {
  const created = !existsSync(dir);
  const prefix = opts.label ? `${opts.label} ` : '';
  let lock: RunLock;
  try {
    lock = acquireRunLock(dir, { command: opts.command, onWarning: (m) => opts.logger.warn(m) });
  } catch (err) {
    if (err instanceof RunLockedError) throw new EngineError(`${prefix}${err.message}`);
    throw new EngineError(`${prefix}${describeFsError(err, dir, `create the ${opts.what ?? 'run folder'}`)}`);
  }
  if (!created) return lock;
  return {
    path: lock.path,
    holder: lock.holder,
    release() {
      lock.release();
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        /* not ours to clean any more */
      }
    },
  };
}

/**
 * Prepare a run folder (locked by {@link lockRunFolder}). A folder that already holds a run
 * (config.json) is refused unless `resume` (continue it) or `force` (start over: the old
 * run's files are moved aside to `<run>.old-<timestamp>`, never deleted, so nothing is lost).
 * @returns whether an existing run is being resumed
 */
export async function prepareRunFolder(dir: string, opts: { resume?: boolean; force?: boolean }): Promise<{ resumed: boolean; movedTo?: string }> {
  const configFile = path.join(dir, 'config.json');
  const exists = await fs.stat(configFile).then(() => true, () => false);
  if (exists && opts.resume) {
    await assertWritable(dir);
    return { resumed: true };
  }
  if (opts.resume && !exists) {
    throw new EngineError(`--resume: ${dir} holds no run to resume (no config.json); drop --resume to start a new run`);
  }
  if (exists && !opts.force) {
    throw new EngineError(`${dir} already holds a run (config.json); pass --resume to continue it or --force to start over (the old run is kept as ${path.basename(dir)}.old-<time>)`);
  }
  let movedTo: string | undefined;
  if (exists && opts.force) {
    // Everything but the lock, which this process holds, moves to the aside folder.
    movedTo = `${dir.replace(/[\\/]+$/, '')}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.mkdir(movedTo);
    for (const name of await fs.readdir(dir)) {
      if (name !== RUN_LOCK_FILE) await fs.rename(path.join(dir, name), path.join(movedTo, name));
    }
  }
  await assertWritable(dir);
  return movedTo ? { resumed: false, movedTo } : { resumed: false };
}

/** Fail with one line when a folder cannot be written. */
export async function assertWritable(dir: string): Promise<void> {
  try {
    await fs.access(dir, constants.W_OK);
  } catch {
    throw new EngineError(`${dir}: folder is not writable`);
  }
}
