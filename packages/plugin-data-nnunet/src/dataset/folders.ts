import { DataError } from '@voxseg/plugin-data-brats';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseChannelFileName } from '../format/case-files.js';
import { DATASET_JSON } from '../format/dataset-json.js';

/** Where an {@link NnunetDataset} finds its files, resolved from its options. */
export interface NnunetFolders {
  /** The `dataset.json` in use. */
  jsonFile: string;
  /** Folder of case images (`<case>_XXXX<ending>`); absent for a folder of reference labels only. */
  images?: string;
  /** Folder of label maps (`<case><ending>`) for those cases, when known (it may not exist). */
  labels?: string;
  /** A dataset's `imagesTr`: `numTraining` must match and every case must be labelled. */
  training: boolean;
  /** Default cache folder, or false (never inside a folder given only to be read). */
  cacheDir: string | false;
}

/**
 * Whether `dir` is a folder the `nnunet` dataset reads (the registry's detection hook): a
 * dataset folder, a flat folder of `<case>_XXXX` images, or a label folder beside a
 * `dataset.json`. See {@link nnunetFolderKind}.
 */
export function detectNnunetFolder(dir: string): boolean {
  return nnunetFolderKind(dir) !== null;
}

/** What kind of nnU-Net folder `dir` is, from a few file-system checks; never throws. */
export function nnunetFolderKind(dir: string): 'dataset' | 'images' | 'labels' | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  if (names.includes(DATASET_JSON) && isFile(join(dir, DATASET_JSON))) return 'dataset';
  const visible = names.filter((n) => !n.startsWith('.'));
  if (visible.some((n) => parseChannelFileName(n)?.channel === 0)) return 'images';
  // A folder of label maps inside a dataset (labelsTr/, labelsTs/): an evaluation reference.
  if (existsSync(join(dirname(dir), DATASET_JSON)) && visible.some((n) => /\.nii(\.gz)?$/.test(n))) return 'labels';
  return null;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The label folder that goes with a dataset's image folder (`imagesTr` -> `labelsTr`, `imagesTs` -> `labelsTs`). */
function siblingLabels(images: string): string | undefined {
  const name = basename(images);
  return name === 'imagesTr' || name === 'imagesTs' ? join(dirname(images), `labels${name.slice(6)}`) : undefined;
}

/**
 * Resolve the folders of the `nnunet` dataset's options:
 * - `images` given: that flat folder, `labels` if given, `datasetJson` or `<root>/dataset.json`;
 * - `root` holds `dataset.json`: `imagesTr` + `labelsTr` (or `imagesTs` + `labelsTs` for `subset: 'test'`);
 * - `root` is a flat folder of `<case>_0000` images (e.g. `imagesTs`, `voxseg predict --input`):
 *   those images, `dataset.json` from `datasetJson`, else the parent folder, else the `run` folder
 *   (the copy {@link NnunetDataset.keepInRun} kept);
 * - `root` is a folder of label maps beside a `dataset.json` (`labelsTr`, `labelsTs`, `voxseg evaluate --gt`).
 */
export function resolveNnunetFolders(options: {
  root?: string;
  subset?: 'train' | 'test';
  images?: string;
  labels?: string;
  datasetJson?: string;
  readOnly?: boolean;
  run?: string;
}): NnunetFolders {
  const given = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  const { root, images, datasetJson } = options;
  if (!given(root) && !(given(images) && given(datasetJson))) {
    throw new DataError('nnunet dataset: option "root" (the nnU-Net dataset folder, holding dataset.json) is required, or both "images" and "datasetJson"');
  }
  if (given(images)) {
    return { jsonFile: datasetJson ?? join(root!, DATASET_JSON), images, ...(options.labels ? { labels: options.labels } : {}), training: false, cacheDir: false };
  }
  const kind = nnunetFolderKind(root!);
  if (kind === 'images' || kind === 'labels') {
    // The folder's own dataset.json (in its parent) first, else the copy a trained run kept.
    const parentJson = join(dirname(root!), DATASET_JSON);
    const runJson = given(options.run) ? join(options.run, DATASET_JSON) : undefined;
    const jsonFile = given(datasetJson) ? datasetJson : existsSync(parentJson) ? parentJson : runJson && existsSync(runJson) ? runJson : undefined;
    if (!jsonFile) {
      const where = runJson ? `none in it, in ${dirname(root!)} or in the run ${options.run}` : `none in it or in ${dirname(root!)}`;
      throw new DataError(`${root}: a folder of nnU-Net-named images without a dataset.json (${where}); give the dataset's dataset.json (option "datasetJson")`, root);
    }
    if (kind === 'labels') return { jsonFile, labels: root!, training: false, cacheDir: false };
    const labels = options.labels ?? siblingLabels(root!);
    return { jsonFile, images: root!, ...(labels ? { labels } : {}), training: false, cacheDir: false };
  }
  const sub = options.subset === 'test' ? 'Ts' : 'Tr';
  return {
    jsonFile: datasetJson ?? join(root!, DATASET_JSON),
    images: join(root!, `images${sub}`),
    labels: join(root!, `labels${sub}`),
    training: sub === 'Tr',
    cacheDir: options.readOnly ? false : join(root!, '.voxseg-cache', `images${sub}`),
  };
}
