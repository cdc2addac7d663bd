import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DATASET_JSON } from './dataset-json.js';
import { parseChannelFileName } from './case-files.js';

/**
 * Whether `root` is an nnU-Net raw dataset folder: it holds a `dataset.json` file (the mark
 * nnU-Net itself requires). Says nothing about whether the file is valid: loading does.
 * Never throws (a missing or unreadable path is simply not a dataset).
 */
export async function isNnunetDataset(root: string): Promise<boolean> {
  try {
    return (await stat(join(root, DATASET_JSON))).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether `dir` is a flat folder of nnU-Net-named images (like `imagesTs`): it holds at least
 * one `<case>_0000.nii.gz` (or `.nii`) file. BraTS-layout folders hold case sub-folders
 * instead, so the two are told apart. Never throws.
 */
export async function isNnunetImageFolder(dir: string): Promise<boolean> {
  try {
    const names = await readdir(dir);
    return names.some((n) => !n.startsWith('.') && parseChannelFileName(n)?.channel === 0);
  } catch {
    return false;
  }
}
