import { Rng, ensureDir } from '@voxseg/core';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSystemError, fileError } from '../io/errors.js';
import { createNiftiHeader, writeNifti } from '../io/write-nifti.js';
import { SYNTHETIC_MODALITIES, type SynthesizeOptions, synthesizeCase } from './synthesize-case.js';

/** Options of {@link synthesizeDataset}. */
export interface SynthesizeDatasetOptions extends SynthesizeOptions {
  /** [nx, ny, nz] (default 240x240x155). */
  shape?: [number, number, number];
  /** Overwrite existing case folders (default false: refuse before writing anything). */
  force?: boolean;
  /** Case id prefix (default `BraTS2021_`); ids are the prefix + a 5-digit index from 0. */
  idPrefix?: string;
  /** Called after each case is written. */
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/**
 * Write `n` synthetic cases in the BraTS 2021 layout:
 * `<outDir>/<id>/<id>_{t1,t1ce,t2,flair}.nii.gz` (int16) and `<id>_seg.nii.gz` (uint8), every
 * file written atomically. Case k uses the k-th fork of `new Rng(seed)`, so the same seed gives
 * the same files.
 *
 * @returns the case ids written
 * @throws DataError naming the folder when a case folder exists (without `force`) or the
 *   output cannot be written; existing cases are checked before anything is written
 */
export async function synthesizeDataset(outDir: string, n: number, seed: number, options?: SynthesizeDatasetOptions): Promise<string[]>;
/** Same, with the shape [nx, ny, nz] as the fourth argument. */
export async function synthesizeDataset(outDir: string, n: number, seed: number, shape: [number, number, number], options?: SynthesizeDatasetOptions): Promise<string[]>;
export async function synthesizeDataset(
  outDir: string,
  n: number,
  seed: number,
  shapeOrOptions: [number, number, number] | SynthesizeDatasetOptions = {},
  more: SynthesizeDatasetOptions = {},
): Promise<string[]> {
  const options: SynthesizeDatasetOptions = Array.isArray(shapeOrOptions) ? { ...more, shape: shapeOrOptions } : shapeOrOptions;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`synthesizeDataset: the number of cases must be a positive integer, got ${n}`);
  const shape = options.shape ?? [240, 240, 155];
  const prefix = options.idPrefix ?? 'BraTS2021_';
  const ids = Array.from({ length: n }, (_, k) => `${prefix}${String(k).padStart(5, '0')}`);
  const existing = await stat(outDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null; // created below
    throw fileError(outDir, `cannot use as output folder (${describeSystemError(err)})`);
  });
  if (existing && !existing.isDirectory()) throw fileError(outDir, 'exists and is not a folder');
  if (!options.force) {
    for (const id of ids) {
      const dir = join(outDir, id);
      const exists = await stat(dir).then(() => true, () => false);
      if (exists) throw fileError(dir, 'already exists; pass --force (option force: true) to overwrite it');
    }
  }
  const master = new Rng(seed);
  for (const [k, id] of ids.entries()) {
    const rng = master.fork();
    const c = synthesizeCase(rng, shape, options);
    const dir = join(outDir, id);
    try {
      await ensureDir(dir);
    } catch (err) {
      throw fileError(dir, `cannot create the case folder (${describeSystemError(err)})`);
    }
    const header = createNiftiHeader({ shape: c.shape, affine: c.affine, descrip: 'voxseg synthetic BraTS-like case' });
    await Promise.all([
      ...SYNTHETIC_MODALITIES.map((m) => writeNifti(join(dir, `${id}_${m}.nii.gz`), c.images[m], { reference: header, datatype: 'int16' })),
      writeNifti(join(dir, `${id}_seg.nii.gz`), c.seg, { reference: header, datatype: 'uint8' }),
    ]);
    options.onProgress?.(k + 1, n, id);
  }
  return ids;
}
