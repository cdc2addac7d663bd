import type { ReadResult } from '../validation/check-volumes.js';
import { readForCheck } from '../validation/read-for-check.js';
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
    return readForCheck(m, file, 'float32');
  });
  if (c.seg) jobs.push(readForCheck('seg', c.seg, 'native'));
  return Promise.all(jobs);
}
