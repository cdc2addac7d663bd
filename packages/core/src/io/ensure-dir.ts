import { mkdirSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` that always terminates. Node 20's `fs.mkdir(dir, { recursive: true })` never
 * returns for some paths (e.g. under /proc, where mkdir answers ENOENT although the parent
 * exists), which would hang a command given such an output folder. This walks up one level
 * at a time and gives up with the error when a retry after creating the parent still fails.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      const stat = await fs.stat(dir);
      if (!stat.isDirectory()) throw Object.assign(new Error(`${dir}: exists and is not a folder`), { code: 'ENOTDIR' });
      return;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    await ensureDir(parent);
    try {
      await fs.mkdir(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

/** Synchronous {@link ensureDir}. */
export function ensureDirSync(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir}: exists and is not a folder`), { code: 'ENOTDIR' });
      return;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    ensureDirSync(parent);
    try {
      mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
