import type { CaseData, CaseMeta } from '@voxseg/core';
import { DataError } from '../io/errors.js';
import { preprocessCase } from '../preprocessing/preprocess-case.js';
import type { ReadResult } from '../validation/check-volumes.js';
import { formatProblem, type ValidationProblem } from '../validation/problems.js';

/**
 * A loaded case from the files of a case as read and checked (`readForCheck`,
 * `checkCaseVolumes`): any problem refuses the case with one line (the first problem, and how
 * many more); otherwise the channels (every file but `seg`, in order) and the label are cropped
 * and z-scored ({@link preprocessCase}), and the metadata records the geometry of the first
 * channel and where the case came from. Shared by every NIfTI dataset format (BraTS folders,
 * nnU-Net raw datasets).
 *
 * @param source modality names in channel order and the source file of each (and `seg`)
 * @throws DataError naming the case and the file of the first problem
 */
export function caseFromFiles(
  id: string,
  read: readonly ReadResult[],
  problems: readonly ValidationProblem[],
  source: { modalities: string[]; files: Record<string, string> },
): CaseData {
  if (problems.length > 0) {
    const p = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new DataError(`${formatProblem(p)}${more}`, p.file, id);
  }
  const images = read.filter((r) => r.role !== 'seg').map((r) => r.volume!);
  const seg = read.find((r) => r.role === 'seg')?.volume;
  const first = images[0]!;
  const pre = preprocessCase({ channels: images.map((v) => v.data as Float32Array), label: seg ? Uint8Array.from(seg.data) : undefined, shape: first.shape });
  const meta: CaseMeta = {
    id,
    affine: first.affine,
    spacing: first.spacing,
    originalShape: pre.originalShape,
    cropBox: pre.cropBox,
    modalities: source.modalities,
    files: source.files,
    header: first.header,
  };
  return pre.label ? { meta, image: pre.image, shape: pre.shape, label: pre.label } : { meta, image: pre.image, shape: pre.shape };
}
