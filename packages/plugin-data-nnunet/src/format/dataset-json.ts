import { describeSystemError, fileError } from '@voxseg/plugin-data-brats';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The name of the metadata file at the top of an nnU-Net raw dataset folder. */
export const DATASET_JSON = 'dataset.json';

/** File endings voxseg reads (NIfTI-1, gzipped or not). nnU-Net supports more through its readers. */
export const SUPPORTED_FILE_ENDINGS: readonly string[] = ['.nii.gz', '.nii'];

/** One entry of `labels`: a plain label value, or a region (the label values it merges). */
export type NnunetLabelValue = number | number[];

/**
 * The fields of nnU-Net v2's `dataset.json` that voxseg uses, as written by nnU-Net's
 * `generate_dataset_json` (`nnunetv2/dataset_conversion/generate_dataset_json.py`).
 * Other fields (`name`, `description`, `licence`, ...) are kept in {@link raw}.
 */
export interface NnunetDatasetJson {
  /** Channel names by channel index: `channel_names["0"]` is the name of the `_0000` files. */
  channelNames: string[];
  /** `labels` in file order: name -> value (plain label) or list of values (region). */
  labels: [name: string, value: NnunetLabelValue][];
  /**
   * Region-based (nnU-Net's rule: some label entry is a list of more than one value).
   * Then every foreground entry of `labels` is one region, i.e. one output channel.
   */
  hasRegions: boolean;
  /** With regions: the label written for each region, in region order (later ones overwrite earlier ones). */
  regionsClassOrder?: number[];
  /** Every label value that may appear in a label file (background included), sorted. */
  allLabels: number[];
  /** `.nii.gz` or `.nii`. */
  fileEnding: string;
  /** Declared number of training cases (`numTraining`). */
  numTraining: number;
  /** The whole parsed file, unknown keys included. */
  raw: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLabelInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
// JavaScript objects put integer-like keys first, so such label names lose their file order.
const isIndexLike = (k: string) => /^(0|[1-9]\d*)$/.test(k);

/**
 * Read and check `<root>/dataset.json`.
 * @throws DataError, one line naming the file and the key, when it is missing, not JSON, or
 *   breaks nnU-Net v2's format (see {@link parseDatasetJson})
 */
export async function readDatasetJson(root: string): Promise<NnunetDatasetJson> {
  return readDatasetJsonFile(join(root, DATASET_JSON));
}

/** {@link readDatasetJson} of a file by its path (e.g. a copy kept next to a trained model). */
export async function readDatasetJsonFile(file: string): Promise<NnunetDatasetJson> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw cannotRead(file, err);
  }
  return decodeDatasetJson(text, file);
}

/** Synchronous {@link readDatasetJson}, for registry factories (whose `create` is synchronous). */
export function readDatasetJsonSync(root: string): NnunetDatasetJson {
  return readDatasetJsonFileSync(join(root, DATASET_JSON));
}

/** Synchronous {@link readDatasetJsonFile}. */
export function readDatasetJsonFileSync(file: string): NnunetDatasetJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw cannotRead(file, err);
  }
  return decodeDatasetJson(text, file);
}

const cannotRead = (file: string, err: unknown) => fileError(file, `cannot read the nnU-Net dataset description (${describeSystemError(err)})`);

function decodeDatasetJson(text: string, file: string): NnunetDatasetJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw fileError(file, `not valid JSON (${(err as Error).message})`);
  }
  return parseDatasetJson(json, file);
}

/**
 * Check a parsed `dataset.json` against nnU-Net v2's format (`documentation/dataset_format.md`,
 * `documentation/region_based_training.md`, and the checks of nnU-Net's `LabelManager`):
 * - `channel_names`: `{"0": name, "1": name, ...}`, keys consecutive from 0;
 * - `labels`: name -> integer or list of integers, `background` = 0; label values consecutive
 *   from 0; when some entry is a list of more than one value the dataset is region-based and
 *   `regions_class_order` must give one label per foreground region;
 * - `file_ending`: `.nii.gz` or `.nii` (the NIfTI files voxseg reads);
 * - `numTraining`: a non-negative integer.
 *
 * @param file named in every error
 * @throws DataError `<file>: "<key>" ...` on the first problem
 */
export function parseDatasetJson(json: unknown, file: string): NnunetDatasetJson {
  const bad = (key: string, problem: string) => fileError(file, `"${key}" ${problem}`);
  if (!isObject(json)) throw fileError(file, `expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);

  // channel_names
  const channels = json.channel_names;
  if (channels === undefined) {
    const hint = 'modality' in json ? ' (this looks like an nnU-Net v1 dataset.json with "modality": convert it with nnUNetv2_convert_old_nnUNet_dataset)' : '';
    throw bad('channel_names', `is missing (expected {"0": "<name of the _0000 files>", ...})${hint}`);
  }
  if (!isObject(channels)) throw bad('channel_names', `must be an object {"0": "T1", ...}, found ${JSON.stringify(channels)}`);
  const keys = Object.keys(channels);
  if (keys.length === 0) throw bad('channel_names', 'is empty: at least one input channel is needed');
  const channelNames: string[] = [];
  for (let c = 0; c < keys.length; c++) {
    const name = channels[String(c)];
    if (name === undefined) throw bad('channel_names', `must have keys "0".."${keys.length - 1}" (one per _XXXX file suffix), found keys ${keys.map((k) => `"${k}"`).join(', ')}`);
    if (typeof name !== 'string' || name.length === 0) throw bad(`channel_names.${c}`, `must be a non-empty string, found ${JSON.stringify(name)}`);
    channelNames.push(name);
  }

  // labels
  const labelsJson = json.labels;
  if (labelsJson === undefined) throw bad('labels', 'is missing (expected {"background": 0, "<name>": 1, ...})');
  if (!isObject(labelsJson)) throw bad('labels', `must be an object {"background": 0, ...}, found ${JSON.stringify(labelsJson)}`);
  const labels: [string, NnunetLabelValue][] = [];
  for (const [name, value] of Object.entries(labelsJson)) {
    if (name === 'ignore') throw bad('labels.ignore', "is nnU-Net's ignore label (sparse annotation), which voxseg does not support");
    if (isLabelInt(value)) labels.push([name, value]);
    else if (Array.isArray(value) && value.length > 0 && value.every(isLabelInt)) labels.push([name, [...value]]);
    else throw bad(`labels.${name}`, `must be an integer in [0, 255] or a non-empty list of such integers, found ${JSON.stringify(value)}`);
  }
  const background = labelsJson.background;
  if (background === undefined) throw bad('labels', 'has no "background" entry (nnU-Net requires "background": 0)');
  if (background !== 0) throw bad('labels.background', `must be 0, found ${JSON.stringify(background)}`);
  const allLabels = [...new Set(labels.flatMap(([, v]) => (Array.isArray(v) ? v : [v])))].sort((a, b) => a - b);
  if (allLabels.some((v, i) => v !== i)) {
    throw bad('labels', `values must be consecutive integers from 0 (nnU-Net's rule), found ${allLabels.join(', ')}`);
  }
  const hasRegions = labels.some(([, v]) => Array.isArray(v) && v.length > 1);
  let regionsClassOrder: number[] | undefined;
  if (hasRegions) {
    const foreground = foregroundEntries(labels);
    const rco = json.regions_class_order;
    if (rco === undefined) throw bad('regions_class_order', `is missing: "labels" defines regions, so one label per region is needed (${foreground.length} regions: ${foreground.map(([n]) => n).join(', ')})`);
    if (!Array.isArray(rco) || !rco.every(isLabelInt)) throw bad('regions_class_order', `must be a list of label integers, found ${JSON.stringify(rco)}`);
    if (rco.length !== foreground.length) {
      throw bad('regions_class_order', `has ${rco.length} entries, expected one per foreground region (${foreground.length}: ${foreground.map(([n]) => n).join(', ')})`);
    }
    const unknown = rco.find((v) => !allLabels.includes(v));
    if (unknown !== undefined) throw bad('regions_class_order', `contains ${unknown}, which is not a label value of "labels" (${allLabels.join(', ')})`);
    const indexLike = foreground.find(([n]) => isIndexLike(n));
    if (indexLike) throw bad(`labels.${indexLike[0]}`, 'is a region whose name is an integer: JSON object order (which gives the region order) is not kept for such names; rename it');
    regionsClassOrder = [...rco];
  } else {
    const values = labels.map(([, v]) => (Array.isArray(v) ? v[0]! : v));
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) throw bad('labels', `gives the value ${dup} to more than one name`);
  }

  // file_ending
  const fileEnding = json.file_ending;
  if (fileEnding === undefined) throw bad('file_ending', 'is missing (expected ".nii.gz")');
  if (typeof fileEnding !== 'string' || !SUPPORTED_FILE_ENDINGS.includes(fileEnding)) {
    throw bad('file_ending', `is ${JSON.stringify(fileEnding)}; voxseg reads NIfTI only: ${SUPPORTED_FILE_ENDINGS.map((e) => `"${e}"`).join(' or ')}`);
  }

  // numTraining
  const numTraining = json.numTraining;
  if (numTraining === undefined) throw bad('numTraining', 'is missing (the number of training cases in imagesTr)');
  if (typeof numTraining !== 'number' || !Number.isInteger(numTraining) || numTraining < 0) {
    throw bad('numTraining', `must be a non-negative integer, found ${JSON.stringify(numTraining)}`);
  }

  return {
    channelNames,
    labels,
    hasRegions,
    ...(regionsClassOrder ? { regionsClassOrder } : {}),
    allLabels,
    fileEnding,
    numTraining,
    raw: json,
  };
}

/**
 * The foreground entries of `labels`, in file order: everything but entries that are only
 * background (0 or [0, ...0]), as nnU-Net's `LabelManager` filters them.
 */
export function foregroundEntries(labels: readonly [string, NnunetLabelValue][]): [string, number[]][] {
  return labels
    .map(([n, v]): [string, number[]] => [n, Array.isArray(v) ? [...v] : [v]])
    .filter(([, v]) => !v.every((x) => x === 0));
}
