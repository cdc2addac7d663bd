import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureDir, fsErrorFor } from '@voxseg/core';

/**
 * Write a file atomically: write a temp file in the same folder, then rename over the target,
 * so a reader never sees a half-written file and an interrupted write loses nothing.
 * A failure names `file` (never the temporary file) and what to do (core's `describeFsError`).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await ensureDir(path.dirname(file));
  } catch (err) {
    throw fsErrorFor(err, file);
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw fsErrorFor(err, file);
  }
}
