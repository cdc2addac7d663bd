import type { ReadResult } from '../validation/check-volumes.js';
import { DataError } from '../io/errors.js';
import { readNifti } from '../io/read-nifti.js';
import type { CaseFiles } from './discover-cases.js';
import type { BratsLayout } from './layout.js';

/**
 * Read every file of a case in parallel (modalities as float32, the segmentation in its
 * stored type), never throwing for a bad file: failures come back as `error` so validation
 * can report all of them at once. Order: modalities in layout order, then `seg`.
 */
export async function readCaseFiles(c: CaseFiles, layout: BratsLayout): Promise<ReadResult[]> {
  const jobs = layout.modalities.map(async (m): Promise<ReadResult> => {
    const file = c.images[m]!;
    if (c.missing.includes(m)) return { role: m, file, missing: true };
    return readOne(m, file, 'float32');
  });
  if (c.seg) jobs.push(readOne('seg', c.seg, 'native'));
  return Promise.all(jobs);
}

async function readOne(role: string, file: string, as: 'float32' | 'native'): Promise<ReadResult> {
  try {
    return { role, file, volume: await readNifti(file, { as }) };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    // The problem report names the file itself: keep only the reason.
    const reason = err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
    return { role, file, error: reason };
  }
}
