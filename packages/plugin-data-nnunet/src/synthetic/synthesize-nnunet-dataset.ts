import { Rng, ensureDir } from '@voxseg/core';
import {
  SYNTHETIC_MODALITIES,
  type SynthesizeOptions,
  createNiftiHeader,
  describeSystemError,
  fileError,
  synthesizeCase,
  writeFileAtomic,
  writeNifti,
} from '@voxseg/plugin-data-brats';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { channelFileName } from '../format/case-files.js';
import { DATASET_JSON } from '../format/dataset-json.js';

/**
 * BraTS label -> nnU-Net label, as nnU-Net's `Dataset137_BraTS21.py` converts segmentations
 * (nnU-Net wants consecutive labels): 0 -> 0, edema 2 -> 1, necrosis 1 -> 2, enhancing 4 -> 3.
 * Any other value is an error.
 */
export function bratsToNnunetLabels(seg: ArrayLike<number>): Uint8Array {
  const map = [0, 2, 1, -1, 3];
  const out = new Uint8Array(seg.length);
  for (let i = 0; i < seg.length; i++) {
    const v = map[seg[i]!];
    if (v === undefined || v < 0) throw new RangeError(`bratsToNnunetLabels: unexpected BraTS label ${seg[i]} at voxel ${i} (expected 0, 1, 2 or 4)`);
    out[i] = v;
  }
  return out;
}

/** nnU-Net label -> BraTS label, the inverse of {@link bratsToNnunetLabels} (nnU-Net's `convert_labels_back_to_BraTS`). */
export function nnunetToBratsLabels(seg: ArrayLike<number>): Uint8Array {
  const map = [0, 2, 1, 4];
  const out = new Uint8Array(seg.length);
  for (let i = 0; i < seg.length; i++) {
    const v = map[seg[i]!];
    if (v === undefined) throw new RangeError(`nnunetToBratsLabels: unexpected label ${seg[i]} at voxel ${i} (expected 0..3)`);
    out[i] = v;
  }
  return out;
}

/**
 * The `dataset.json` nnU-Net's `Dataset137_BraTS21.py` writes (through `generate_dataset_json`):
 * channels T1, T1ce, T2, Flair (`_0000`.. `_0003`), region-based labels whole tumor [1,2,3],
 * tumor core [2,3], enhancing tumor [3] with `regions_class_order` [1, 2, 3].
 */
export function brats2021DatasetJson(numTraining: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    channel_names: { 0: 'T1', 1: 'T1ce', 2: 'T2', 3: 'Flair' },
    labels: { background: 0, 'whole tumor': [1, 2, 3], 'tumor core': [2, 3], 'enhancing tumor': [3] },
    numTraining,
    file_ending: '.nii.gz',
    regions_class_order: [1, 2, 3],
    ...extra,
  };
}

/** Options of {@link synthesizeNnunetDataset}. */
export interface SynthesizeNnunetOptions extends SynthesizeOptions {
  /** [nx, ny, nz] (default 240x240x155). */
  shape?: [number, number, number];
  /** Unlabelled-by-nnU-Net test cases written to `imagesTs/` (their labels to `labelsTs/`). Default 0. */
  testCases?: number;
  /** Overwrite an existing dataset (default false: refuse before writing anything). */
  force?: boolean;
  /** Case id prefix (default `BraTS2021_`); ids are the prefix + a 5-digit index from 0. */
  idPrefix?: string;
  /** Called after each case is written. */
  onProgress?: (done: number, total: number, caseId: string) => void;
}

/**
 * Write a synthetic BraTS-like dataset in nnU-Net v2's raw layout, as `Dataset137_BraTS21.py`
 * would from BraTS 2021 folders: `<outDir>/imagesTr/<id>_{0000..0003}.nii.gz` (t1, t1ce, t2,
 * flair, int16), `labelsTr/<id>.nii.gz` (uint8, labels converted by {@link bratsToNnunetLabels}),
 * then `dataset.json` ({@link brats2021DatasetJson}). `testCases` more cases go to `imagesTs/`
 * with their labels in `labelsTs/` (not read by nnU-Net; handy for scoring predictions).
 *
 * The cases are those of the BraTS plugin's `synthesizeDataset` with the same seed and
 * shape: case k is the k-th fork of `new Rng(seed)` (training cases first, then test cases),
 * so both layouts of one seed hold the same images. Every file is written atomically;
 * `dataset.json` last, so a folder with a `dataset.json` is complete.
 *
 * @returns the ids of the training and test cases
 * @throws DataError naming the path when the output exists (without `force`) or cannot be written
 */
export async function synthesizeNnunetDataset(
  outDir: string,
  n: number,
  seed: number,
  options: SynthesizeNnunetOptions = {},
): Promise<{ train: string[]; test: string[] }> {
  const m = options.testCases ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`synthesizeNnunetDataset: the number of training cases must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < 0) throw new RangeError(`synthesizeNnunetDataset: testCases must be a non-negative integer, got ${m}`);
  const shape = options.shape ?? [240, 240, 155];
  const prefix = options.idPrefix ?? 'BraTS2021_';
  const ids = Array.from({ length: n + m }, (_, k) => `${prefix}${String(k).padStart(5, '0')}`);
  const existing = await stat(outDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw fileError(outDir, `cannot use as output folder (${describeSystemError(err)})`);
  });
  if (existing && !existing.isDirectory()) throw fileError(outDir, 'exists and is not a folder');
  if (existing && !options.force) {
    const json = join(outDir, DATASET_JSON);
    if (await stat(json).then(() => true, () => false)) throw fileError(json, 'already exists; pass --force (option force: true) to overwrite the dataset');
  }
  const folders = ['imagesTr', 'labelsTr', ...(m > 0 ? ['imagesTs', 'labelsTs'] : [])];
  for (const f of folders) {
    try {
      await ensureDir(join(outDir, f));
    } catch (err) {
      throw fileError(join(outDir, f), `cannot create the folder (${describeSystemError(err)})`);
    }
  }
  const master = new Rng(seed);
  for (const [k, id] of ids.entries()) {
    const rng = master.fork();
    const c = synthesizeCase(rng, shape, options);
    const train = k < n;
    const images = join(outDir, train ? 'imagesTr' : 'imagesTs');
    const labels = join(outDir, train ? 'labelsTr' : 'labelsTs');
    const header = createNiftiHeader({ shape: c.shape, affine: c.affine, descrip: 'voxseg synthetic BraTS-like case' });
    await Promise.all([
      ...SYNTHETIC_MODALITIES.map((mod, ch) => writeNifti(join(images, channelFileName(id, ch, '.nii.gz')), c.images[mod], { reference: header, datatype: 'int16' })),
      writeNifti(join(labels, `${id}.nii.gz`), bratsToNnunetLabels(c.seg), { reference: header, datatype: 'uint8' }),
    ]);
    options.onProgress?.(k + 1, n + m, id);
  }
  const json = brats2021DatasetJson(n, {
    name: 'BraTS2021',
    description: 'voxseg synthetic BraTS-like cases in the layout of nnU-Net Dataset137_BraTS2021',
    reference: 'voxseg synth --layout nnunet',
    licence: 'synthetic data, no restriction',
  });
  await writeFileAtomic(join(outDir, DATASET_JSON), JSON.stringify(json, null, 2) + '\n');
  return { train: ids.slice(0, n), test: ids.slice(n) };
}
