import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.js';
import { ensureDir } from '@voxseg/core';

/**
 * Prepare a run folder. A folder that already holds a run (config.json) is refused unless
 * `resume` (continue it) or `force` (start over: the old run is moved aside to
 * `<run>.old-<timestamp>`, never deleted, so nothing is lost).
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
    movedTo = `${dir.replace(/[\\/]+$/, '')}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.rename(dir, movedTo);
  }
  try {
    await ensureDir(dir);
  } catch (err) {
    throw new EngineError(`${dir}: cannot create the run folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
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
