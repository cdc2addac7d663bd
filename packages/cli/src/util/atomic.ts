import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureDir } from '@voxseg/core';

/**
 * Write a file atomically: write a temp file in the same folder, then rename over the target,
 * so a reader never sees a half-written file and an interrupted write loses nothing.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
