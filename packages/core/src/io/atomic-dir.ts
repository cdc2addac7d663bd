import { existsSync } from 'node:fs';
import { ensureDir } from './ensure-dir.js';
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The steps of {@link writeDirAtomic}, in order. A process that dies after step `s` leaves:
 * - `tmp-created`, `filling` (a writer's own steps inside `fill`), `filled`: `dir` intact, a
 *   `.<name>.tmp-*` folder beside it (partial before `filled`, complete at `filled`);
 * - `old-moved`: `dir` missing, the previous version in `<name>.old-<pid>`, the new one
 *   complete in `.<name>.tmp-*`;
 * - `swapped`: the new `dir`, and the previous version still in `<name>.old-<pid>`;
 * - `done`: the new `dir` only.
 */
export type WriteDirStage = 'tmp-created' | 'filling' | 'filled' | 'old-moved' | 'swapped' | 'done';

/**
 * Called at each step of every {@link writeDirAtomic} (fault-injection tests: a hook that
 * never resolves freezes the writer at that step, as a `kill -9` would). Null in normal use.
 */
export type WriteDirStageHook = (stage: WriteDirStage, dir: string, detail?: string) => void | Promise<void>;

let stageHook: WriteDirStageHook | null = null;

/** Install (or remove, with null) the {@link WriteDirStageHook}. For tests. */
export function setWriteDirStageHook(hook: WriteDirStageHook | null): void {
  stageHook = hook;
}

/** Report step `stage` of writing `dir` to the test hook (writers call it with `filling` inside `fill`). */
export async function writeDirStage(stage: WriteDirStage, dir: string, detail?: string): Promise<void> {
  if (stageHook) await stageHook(stage, dir, detail);
}

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
 * What a process killed at each step leaves is listed at {@link WriteDirStage};
 * {@link recoverDir} puts the newest complete version back and removes the rest.
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
    await writeDirStage('tmp-created', dir);
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await writeDirStage('filled', dir);
  const old = `${dir}.old-${process.pid}`;
  const hadOld = existsSync(dir);
  if (hadOld) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
    await writeDirStage('old-moved', dir);
  }
  await rename(tmp, dir);
  await writeDirStage('swapped', dir);
  if (hadOld) await rm(old, { recursive: true, force: true });
  await writeDirStage('done', dir);
}

/** Copy folder `src` into `dest`, replacing `dest` atomically ({@link writeDirAtomic}). */
export async function copyDirAtomic(src: string, dest: string): Promise<void> {
  await writeDirAtomic(dest, async (tmp) => {
    await cp(src, tmp, { recursive: true });
    await writeDirStage('filling', dest, 'copied');
  });
}

/** Options of {@link recoverDir}. */
export interface RecoverDirOptions {
  /**
   * Judges a candidate folder: a number (higher = newer) when it is complete, null when it is
   * not. Without it, `dir` itself counts as complete, `dir.old-*` copies are complete (by
   * the protocol they were whole folders) and ranked by modification time, and temporary
   * folders are incomplete.
   */
  rank?: (candidate: string) => Promise<number | null>;
  /**
   * Also remove every other candidate (the leftovers of interrupted writes). Only for the
   * folder's single writer, at its start: a concurrent writer's temporary folder would go.
   */
  clean?: boolean;
}

/**
 * Put back the newest complete version of `dir` after interrupted {@link writeDirAtomic}s.
 * The candidates are `dir`, the `<name>.old-*` copies and the `.<name>.tmp-*` folders beside
 * it; each is judged by `rank` (never by listing order), the best complete one becomes `dir`
 * (ties keep `dir`). Without `clean` (a reader), an existing `dir` is left as it is and only a
 * missing one is restored. Returns whether `dir` exists afterwards.
 */
export async function recoverDir(dir: string, options: RecoverDirOptions = {}): Promise<boolean> {
  const parent = dirname(dir);
  if (!existsSync(parent)) return false;
  const name = basename(dir);
  const names = await readdir(parent);
  const leftovers = names.filter((n) => n.startsWith(`${name}.old-`) || n.startsWith(`.${name}.tmp-`)).sort().map((n) => join(parent, n));
  const hasDir = existsSync(dir);
  // A reader never touches an existing `dir`: a writer may be between its steps.
  if (!options.clean && hasDir) return true;
  if (leftovers.length === 0) return hasDir;
  const rank = options.rank ?? defaultRank(dir);
  let best: { path: string; score: number } | null = null;
  for (const candidate of hasDir ? [dir, ...leftovers] : leftovers) {
    const score = await rank(candidate).catch(() => null);
    if (score !== null && (best === null || score > best.score)) best = { path: candidate, score };
  }
  if (best && best.path !== dir) {
    if (hasDir) {
      // `dir` is older (or incomplete): set it aside under a leftover name, removed below if cleaning.
      const aside = `${dir}.old-recover-${process.pid}-${Date.now()}`;
      await rename(dir, aside);
      leftovers.push(aside);
    }
    await rename(best.path, dir);
  }
  if (options.clean) {
    for (const path of leftovers) if (path !== best?.path) await rm(path, { recursive: true, force: true });
  }
  return existsSync(dir);
}

function defaultRank(dir: string) {
  return async (candidate: string): Promise<number | null> => {
    if (candidate === dir) return Number.MAX_SAFE_INTEGER;
    if (basename(candidate).startsWith('.')) return null;
    return (await stat(candidate)).mtimeMs;
  };
}
