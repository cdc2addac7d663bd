import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ensureDir } from './ensure-dir.js';
import { fsErrorFor } from './fs-error.js';

/**
 * Write `data` to `file` atomically: the bytes go to a temporary file in the same folder (same
 * file system, so the rename is atomic), which then replaces `file`. A reader never sees a
 * half-written file, and an existing file is left untouched if the write fails (full disk,
 * killed process).
 * @param options.mkdir create the parent folder when missing (default false: a missing folder is an error)
 * @throws an Error whose message starts with the file path and says why it cannot be written
 *   and what to do (`describeFsError`); its `code` is the system error's
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: { mkdir?: boolean } = {}): Promise<void> {
  // A uuid (not a seeded Rng) only names the temp file: it must not consume a seeded stream.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  try {
    if (options.mkdir) await ensureDir(dirname(file));
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    // Name the user's file (never the temporary one) and what to do about it.
    throw fsErrorFor(err, file);
  }
}
