import { existsSync } from 'node:fs';
import { ensureDir } from './ensure-dir.js';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Write a directory atomically: `fill(tmp)` writes every file into a fresh temporary
 * directory beside `dir` (same file system, so the final rename is atomic), then the temporary
 * directory takes `dir`'s place.
 *
 * A reader therefore sees either the complete old directory or the complete new one, never a
 * mix (e.g. new weights with an old `trainer-state.json`). If `fill` throws, the temporary
 * directory is removed and `dir` is left exactly as it was: that is how a failing save keeps
 * the last good checkpoint.
 *
 * Replacing an existing directory takes two renames (POSIX cannot rename a directory over a
 * non-empty one): `dir` -> `dir.old-<pid>`, then `tmp` -> `dir`, then the old copy is deleted.
 * If the process dies between the two renames, `dir` is missing and the complete previous
 * version sits in `dir.old-<pid>`; {@link recoverDir} puts it back and is called by the
 * readers in this module.
 *
 * @param dir the directory to create or replace
 * @param fill writes the directory's content into the temporary directory it is given
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await ensureDir(parent);
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = `${dir}.old-${process.pid}`;
  const hadOld = existsSync(dir);
  if (hadOld) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/**
 * If `dir` is missing because a {@link writeDirAtomic} was interrupted between its two
 * renames, restore the previous complete version (`dir.old-<pid>`, any pid). Returns whether
 * `dir` exists afterwards.
 */
export async function recoverDir(dir: string): Promise<boolean> {
  if (existsSync(dir)) return true;
  const parent = dirname(dir);
  if (!existsSync(parent)) return false;
  const prefix = `${basename(dir)}.old-`;
  const candidates = (await readdir(parent)).filter((name) => name.startsWith(prefix));
  if (candidates.length === 0) return false;
  await rename(join(parent, candidates[0]!), dir);
  return true;
}
