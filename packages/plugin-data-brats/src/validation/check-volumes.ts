import type { Affine, Shape3 } from '@voxseg/core';
import { affineDistance } from '../io/affine.js';
import type { NiftiVolume } from '../io/read-nifti.js';
import { BRATS_LABEL_VALUES } from '../regions/brats-regions.js';
import type { ValidationProblem } from './problems.js';

/** Tolerance on affine elements when comparing modalities (BraTS images are co-registered). */
export const AFFINE_TOLERANCE = 1e-3;

/** One file of a case as read (or failed to read). */
export interface ReadResult {
  /** Modality name, or `seg`. */
  role: string;
  /** The file read. */
  file: string;
  /** The image, when it could be read. */
  volume?: NiftiVolume;
  /** Why it could not be read (missing, corrupt, 4-D, ...). */
  error?: string;
  /** The file does not exist. */
  missing?: boolean;
}

/** Options of {@link checkCaseVolumes}. */
export interface CheckOptions {
  /** Allowed label values of the segmentation (default BraTS: 0, 1, 2, 4). */
  labels?: readonly number[];
  /** Affine tolerance (default {@link AFFINE_TOLERANCE}). */
  affineTolerance?: number;
}

const xyz = (s: Shape3) => `${s[2]}x${s[1]}x${s[0]}`;

/**
 * Every problem of one case, from its files as read: missing or unreadable files, dims or
 * affine differing from the first readable modality, non-finite image values, segmentation
 * values outside the label set. Pure: the caller reads the files.
 */
export function checkCaseVolumes(caseId: string, files: readonly ReadResult[], options: CheckOptions = {}): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const tol = options.affineTolerance ?? AFFINE_TOLERANCE;
  const allowed = new Set(options.labels ?? BRATS_LABEL_VALUES);
  let ref: { role: string; shape: Shape3; affine: Affine } | undefined;
  for (const f of files) {
    if (f.missing) {
      problems.push({ caseId, file: f.file, check: 'missing', expected: `the ${f.role} file`, found: 'no such file' });
      continue;
    }
    if (!f.volume) {
      problems.push({ caseId, file: f.file, check: 'unreadable', expected: 'a readable 3-D NIfTI-1 image', found: f.error ?? 'unreadable file' });
      continue;
    }
    const v = f.volume;
    if (!ref) {
      ref = { role: f.role, shape: v.shape, affine: v.affine };
    } else {
      if (v.shape.some((d, i) => d !== ref!.shape[i])) {
        problems.push({ caseId, file: f.file, check: 'dims', expected: `dims ${xyz(ref.shape)} (as ${ref.role})`, found: `dims ${xyz(v.shape)}` });
      }
      const dist = affineDistance(v.affine, ref.affine);
      if (!(dist <= tol)) {
        problems.push({
          caseId, file: f.file, check: 'affine',
          expected: `the affine of ${ref.role} (tolerance ${tol}) ${JSON.stringify(ref.affine.slice(0, 3))}`,
          found: `${JSON.stringify(v.affine.slice(0, 3).map((r) => r.map((x) => +x.toFixed(4))))} (max difference ${+dist.toPrecision(4)})`,
        });
      }
    }
    if (f.role === 'seg') {
      // Histogram of small non-negative integers (every valid label); anything else is rare.
      const hist = new Float64Array(256);
      const bad = new Map<number, number>();
      let nonInteger = 0;
      const d = v.data;
      for (let i = 0; i < d.length; i++) {
        const x = d[i]!;
        if (x >= 0 && x < 256 && (x | 0) === x) hist[x]!++;
        else if (Number.isInteger(x)) bad.set(x, (bad.get(x) ?? 0) + 1);
        else nonInteger++;
      }
      for (let l = 0; l < 256; l++) if (hist[l]! > 0 && !allowed.has(l)) bad.set(l, hist[l]!);
      if (bad.size > 0 || nonInteger > 0) {
        const parts = [...bad.entries()].sort((a, b) => a[0] - b[0]).map(([l, n]) => `label ${l} (${n} voxels)`);
        if (nonInteger > 0) parts.push(`${nonInteger} non-integer or non-finite voxels`);
        problems.push({ caseId, file: f.file, check: 'labels', expected: `labels in {${[...allowed].sort((a, b) => a - b).join(', ')}}`, found: parts.join(', ') });
      }
    } else {
      let nan = 0, inf = 0, first = -1;
      const d = v.data;
      for (let i = 0; i < d.length; i++) {
        const x = d[i]!;
        if (x - x !== 0) {
          if (Number.isNaN(x)) nan++; else inf++;
          if (first < 0) first = i;
        }
      }
      if (nan + inf > 0) {
        const [, H, W] = v.shape;
        const at = `(x ${first % W}, y ${Math.floor(first / W) % H}, z ${Math.floor(first / (W * H))})`;
        problems.push({ caseId, file: f.file, check: 'finite', expected: 'finite values', found: `${nan} NaN and ${inf} infinite voxels, the first at ${at}` });
      }
    }
  }
  return problems;
}
