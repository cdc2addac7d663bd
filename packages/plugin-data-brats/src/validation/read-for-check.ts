import { DataError } from '../io/errors.js';
import { readNifti } from '../io/read-nifti.js';
import type { ReadResult } from './check-volumes.js';

/**
 * Read one NIfTI file of a case for {@link checkCaseVolumes}, never throwing for a bad file: a
 * file that cannot be read comes back with its reason in `error` (the problem report names
 * the file itself), so a check can report every problem of a case at once. Any dataset
 * format whose cases are NIfTI files (BraTS folders, nnU-Net raw datasets) reads through it.
 * Errors that are not about the data (a bug) still throw.
 *
 * @param role what the file is (a modality or channel name, or `seg`)
 * @param as `float32` for images; `native` for label maps (their stored integers)
 */
export async function readForCheck(role: string, file: string, as: 'float32' | 'native'): Promise<ReadResult> {
  try {
    return { role, file, volume: await readNifti(file, { as }) };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    const reason = err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
    return { role, file, error: reason };
  }
}
