import { randomUUID } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeSystemError, fileError } from './errors.js';

/**
 * Write `data` to `path` atomically: the bytes go to a temporary file in the same folder
 * (same file system, so the rename is atomic), which then replaces `path`. A reader never
 * sees a half-written file, and an existing file is left untouched if the write fails
 * (full disk, killed process).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  // A uuid (not the project Rng) only names the temp file: it must not consume the seeded stream.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fileError(path, `cannot write (${describeSystemError(err)})`);
  }
}
