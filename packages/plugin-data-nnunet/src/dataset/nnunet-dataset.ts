import { type CaseData, type CaseMeta, type Dataset, type DatasetFactory, type DatasetValidation, type LabelMap, type TargetEncoding, writeFileAtomic } from '@voxseg/core';
import {
  CaseCache,
  caseFromFiles,
  DataError,
  PREPROCESSING_VERSION,
  type ReadResult,
  type NiftiHeader,
  type ValidationProblem,
  checkCaseVolumes,
  describeSystemError,
  fileError,
  formatProblem,
  readForCheck,
  readNifti,
  writeNifti,
} from '@voxseg/plugin-data-brats';
import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type NnunetCaseFiles, listNnunetCases, parseChannelFileName } from '../format/case-files.js';
import { DATASET_JSON, type NnunetDatasetJson, readDatasetJsonFile, readDatasetJsonFileSync } from '../format/dataset-json.js';
import { type NnunetFolders, detectNnunetFolder, resolveNnunetFolders } from './folders.js';
import { nnunetTargetEncoding } from '../targets/nnunet-targets.js';

/** Which cases of an nnU-Net dataset folder a {@link NnunetDataset} reads. */
export type NnunetSubset = 'train' | 'test';

/** Options of the `nnunet` dataset. `root` is required, except with both `images` and `datasetJson`. */
export interface NnunetDatasetOptions {
  /**
   * The nnU-Net raw dataset folder (`DatasetXXX_Name/`, holding `dataset.json`). May also be
   * a flat folder of `<case>_XXXX` images (`imagesTs`, a prediction input; `dataset.json` then
   * comes from `datasetJson` or the parent folder) or a folder of label maps beside a
   * `dataset.json` (`labelsTr`/`labelsTs`, an evaluation reference: {@link NnunetDataset.referenceFile}).
   */
  root?: string;
  /**
   * The `dataset.json` file to use instead of `<root>/dataset.json`, e.g. the copy a trained
   * run keeps, so a flat `images` folder can be read without the training dataset at hand.
   */
  datasetJson?: string;
  /**
   * `train` (default): `imagesTr` with `labelsTr`; `test`: `imagesTs`, unlabelled (labels are
   * read from `labelsTs/` when that folder exists: not nnU-Net's format, but a common habit).
   */
  subset?: NnunetSubset;
  /**
   * A flat folder of nnU-Net-named images to read instead of the subset's folder (e.g. the
   * input of `voxseg predict`); `dataset.json` (of `root`, or `datasetJson`) still gives
   * channels and labels.
   */
  images?: string;
  /** Ground-truth label folder (`<case><file_ending>`) for {@link images}. Default: none. */
  labels?: string;
  /**
   * Where preprocessed cases are cached: a folder, or `false` for no cache. Default
   * `<root>/.voxseg-cache/<imagesTr|imagesTs>`; no cache for an `images` folder.
   * When the cache cannot be written, loading still works, uncached, and `onWarning` is told once.
   */
  cacheDir?: string | false;
  /**
   * A run trained on an nnU-Net dataset (the engine sets it when predicting with that run): a
   * flat folder of images with no `dataset.json` of its own (in it or its parent) uses the
   * run's copy, `<run>/dataset.json` ({@link NnunetDataset.keepInRun}).
   */
  run?: string;
  /** The folder is only read (prediction input, evaluation reference): no cache is written into it. */
  readOnly?: boolean;
  /** Non-fatal problems (cache not writable, a channel nnU-Net would normalise otherwise). */
  onWarning?: (message: string) => void;
}

/** Channel names for which nnU-Net v2 picks a normalisation other than z-score (`channel_names` values, case-insensitive). */
const NON_ZSCORE_CHANNELS = ['ct', 'nonorm', 'rescale_to_0_1', 'rgb_to_0_1'];

/**
 * An nnU-Net v2 raw dataset folder as a voxseg {@link Dataset}:
 * `imagesTr/<case>_XXXX<ending>` (one file per channel), `labelsTr/<case><ending>`,
 * optional `imagesTs/`, and `dataset.json` (channels, labels or regions, file ending).
 *
 * Cases are preprocessed as the BraTS plugin does (crop to the non-zero box of all channels,
 * per-channel z-score inside it) through `@voxseg/plugin-data-brats`'s exported
 * `caseFromFiles` (its `preprocessCase`), and cached on disk with its `CaseCache`. Targets
 * come from `dataset.json` ({@link nnunetTargetEncoding}); label values in the files are kept
 * as stored (nnU-Net's consecutive integers).
 */
export class NnunetDataset implements Dataset {
  readonly name = 'nnunet';
  /** The `dataset.json` file in use. */
  readonly jsonFile: string;
  /** The folders read (images, labels), resolved from the options. */
  readonly folders: NnunetFolders;
  /** The parsed `dataset.json`. */
  readonly datasetJson: NnunetDatasetJson;
  /** Number of channels (`channel_names`). */
  readonly inChannels: number;
  /** Targets from `dataset.json` `labels` (see {@link nnunetTargetEncoding}). */
  readonly targets: TargetEncoding;
  private cases?: Promise<Map<string, { images: string[]; label?: string }>>;
  private readonly warned = new Set<string>();
  private readonly cache: CaseCache | null;

  /**
   * @param options see {@link NnunetDatasetOptions}
   * @param datasetJson the parsed `dataset.json`, when the caller has it already; otherwise it
   *   is read here (synchronously: a registry factory's `create` is synchronous)
   * @throws DataError naming `dataset.json` and the key when the file is missing or invalid
   */
  constructor(
    readonly options: NnunetDatasetOptions,
    datasetJson?: NnunetDatasetJson,
  ) {
    if (options?.subset !== undefined && options.subset !== 'train' && options.subset !== 'test') {
      throw new DataError(`nnunet dataset: option "subset" must be "train" or "test", got ${JSON.stringify(options.subset)}`);
    }
    this.folders = resolveNnunetFolders(options ?? {});
    this.jsonFile = this.folders.jsonFile;
    this.datasetJson = datasetJson ?? readDatasetJsonFileSync(this.jsonFile);
    this.inChannels = this.datasetJson.channelNames.length;
    this.targets = nnunetTargetEncoding(this.datasetJson);
    const dir = options.cacheDir !== undefined && !options.readOnly ? options.cacheDir : this.folders.cacheDir;
    this.cache = dir === false ? null : new CaseCache(dir);
  }

  /** Read `dataset.json` asynchronously, then construct (for code that avoids sync file reads). */
  static async open(options: NnunetDatasetOptions): Promise<NnunetDataset> {
    return new NnunetDataset(options, await readDatasetJsonFile(resolveNnunetFolders(options ?? {}).jsonFile));
  }

  /** Sorted case ids of the subset (or of the `images` folder). */
  async caseIds(): Promise<string[]> {
    return [...(await this.caseFiles()).keys()];
  }

  /**
   * The files of every case, found once. Checks the structure (not the contents): every
   * channel file present, every training case labelled, `numTraining` matching.
   * @throws DataError naming the folder or file on the first problem
   */
  async caseFiles(): Promise<Map<string, { images: string[]; label?: string }>> {
    this.cases ??= this.findCases();
    return this.cases;
  }

  /**
   * Load one case: read its channel files (and label), check them (same geometry, finite
   * values, label values declared in `dataset.json`), crop and z-score, through the cache.
   * @throws DataError naming the case and file for an unknown id or invalid data
   */
  async loadCase(id: string): Promise<CaseData> {
    const info = this.datasetJson;
    const files = (await this.caseFiles()).get(id);
    if (!files) throw new DataError(`case ${id}: not found in ${this.folders.images ?? this.folders.labels}`, undefined, id);
    if (files.images.length === 0) throw new DataError(`case ${id}: ${this.folders.labels} holds reference labels only, no images to load`, undefined, id);
    const key = this.cache ? await this.cacheKey(files) : '';
    if (this.cache) {
      const hit = await this.cache.get(id, key);
      if (hit) return hit;
    }
    const names = this.modalityNames(info);
    const { read, problems } = await this.readChecked(id, files);
    const fileMap: Record<string, string> = {};
    names.forEach((n, c) => (fileMap[n] = files.images[c]!));
    if (files.label) fileMap.seg = files.label;
    const data = caseFromFiles(id, read, problems.map((p) => this.explain(p)), { modalities: names, files: fileMap });
    if (this.cache) {
      try {
        await this.cache.put(id, key, data);
      } catch (err) {
        this.warnOnce(`preprocessed cases are not cached: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return data;
  }

  /**
   * Check every case (before training or prediction): structure first (a missing channel or
   * training label, `numTraining`: the whole check rejects with that one line), then each
   * case's contents (geometry, finite values, declared label values). Cases with a fresh cache
   * entry are known valid (only valid cases are cached).
   * @returns valid labelled cases, valid unlabelled cases, invalid cases with their reasons
   */
  async checkCases(options: { onProgress?: (done: number, total: number, caseId: string) => void } = {}): Promise<DatasetValidation> {
    const files = await this.caseFiles();
    const result: DatasetValidation = { valid: [], skipped: [], unlabelled: [] };
    let done = 0;
    for (const [id, f] of files) {
      const cached = this.cache && f.images.length > 0 ? await this.cache.has(id, await this.cacheKey(f)).catch(() => false) : false;
      const problems = cached || f.images.length === 0 ? [] : (await this.readChecked(id, f)).problems;
      if (problems.length > 0) result.skipped.push({ id, reasons: problems.map((p) => formatProblem(this.explain(p))) });
      else if (f.label) result.valid.push(id);
      else result.unlabelled!.push(id);
      options.onProgress?.(++done, files.size, id);
    }
    return result;
  }

  /**
   * Write a predicted label map (on the case's original grid) as `<outDir>/<id><file_ending>`,
   * uint8, with the header (geometry) of the case's first channel, atomically: what nnU-Net's
   * own prediction writes. Returns the file.
   */
  async writePrediction(meta: CaseMeta, labels: Uint8Array, outDir: string): Promise<string> {
    const file = join(outDir, `${meta.id}${this.datasetJson.fileEnding}`);
    await writeNifti(file, labels, { reference: meta.header as NiftiHeader, datatype: 'uint8' });
    return file;
  }

  /**
   * Keep a copy of this dataset's `dataset.json` in a run folder (`<runDir>/dataset.json`, as
   * nnU-Net keeps one beside its trained models), written atomically, so predicting with the
   * run reads a flat folder of images without the training dataset at hand.
   */
  async keepInRun(runDir: string): Promise<void> {
    let text: Buffer;
    try {
      text = await readFile(this.jsonFile);
    } catch (err) {
      throw fileError(this.jsonFile, `cannot read it to keep a copy in the run (${describeSystemError(err)})`);
    }
    await writeFileAtomic(join(runDir, DATASET_JSON), text);
  }

  /** The reference label file of a case (`labelsTr`/`labelsTs`, or the label folder given), or undefined. */
  async referenceFile(id: string): Promise<string | undefined> {
    const ending = this.datasetJson.fileEnding;
    const dirs = [this.folders.labels];
    // A dataset folder scores test predictions too: labelsTs after labelsTr.
    if (this.folders.training && this.options.root) dirs.push(join(this.options.root, 'labelsTs'));
    for (const dir of dirs) {
      if (!dir) continue;
      const file = join(dir, `${id}${ending}`);
      if (await access(file).then(() => true, () => false)) return file;
    }
    return undefined;
  }

  /** A label map file as stored (nnU-Net's label values), with its shape and spacing. */
  async readLabelMap(file: string): Promise<LabelMap> {
    const v = await readNifti(file, { as: 'native' });
    const data = new Uint8Array(v.data.length);
    for (let i = 0; i < data.length; i++) {
      const x = v.data[i]!;
      if (!(x >= 0 && x <= 255 && Number.isInteger(x))) throw fileError(file, `expected integer labels in [0, 255], found ${x} at voxel ${i}`);
      data[i] = x;
    }
    return { data, shape: v.shape, spacing: v.spacing };
  }

  /** Read every file of a case and check it (never throws for bad data: problems come back). */
  private async readChecked(id: string, files: { images: string[]; label?: string }): Promise<{ read: ReadResult[]; problems: ValidationProblem[] }> {
    const names = this.modalityNames(this.datasetJson);
    const read = await Promise.all([
      ...files.images.map((f, c) => readForCheck(names[c]!, f, 'float32')),
      ...(files.label ? [readForCheck('seg', files.label, 'native')] : []),
    ]);
    return { read, problems: checkCaseVolumes(id, read, { labels: this.datasetJson.allLabels }) };
  }

  /** A label problem also says where the allowed values come from. */
  private explain(p: ValidationProblem): ValidationProblem {
    return p.check === 'labels' ? { ...p, expected: `${p.expected} (the values of "labels" in ${this.jsonFile})` } : p;
  }

  private cacheKey(files: { images: string[]; label?: string }): Promise<string> {
    const sources = files.label ? [...files.images, files.label] : files.images;
    return this.cache!.keyOf(sources, { plugin: 'nnunet', version: PREPROCESSING_VERSION });
  }

  /** Channel names as modality names; made unique with the channel suffix when they repeat. */
  private modalityNames(info: NnunetDatasetJson): string[] {
    const n = info.channelNames;
    return new Set(n).size === n.length ? [...n] : n.map((name, c) => `${name}_${String(c).padStart(4, '0')}`);
  }

  private async findCases(): Promise<Map<string, { images: string[]; label?: string }>> {
    const info = this.datasetJson;
    const special = info.channelNames.map((n, c) => [n, c] as const).filter(([n]) => NON_ZSCORE_CHANNELS.includes(n.toLowerCase()));
    if (special.length > 0) {
      this.warnOnce(
        `${this.jsonFile}: channel ${special.map(([n, c]) => `${c} ("${n}")`).join(', ')} would get another normalisation than z-score in nnU-Net; voxseg z-scores every channel`,
      );
    }
    const { images, labels: labelsDir, training } = this.folders;
    const out = new Map<string, { images: string[]; label?: string }>();
    if (!images) {
      // A folder of reference labels: cases are its label files.
      for (const id of await listLabelIds(labelsDir!, info.fileEnding)) out.set(id, { images: [], label: join(labelsDir!, `${id}${info.fileEnding}`) });
      return out;
    }
    const listed: NnunetCaseFiles[] = await listNnunetCases(images, { fileEnding: info.fileEnding, channels: info.channelNames.length, channelNames: info.channelNames });
    if (training && listed.length !== info.numTraining) {
      throw fileError(this.jsonFile, `"numTraining" is ${info.numTraining}, but ${images} holds ${listed.length} case${listed.length === 1 ? '' : 's'}`);
    }
    for (const c of listed) {
      const label = labelsDir ? join(labelsDir, `${c.id}${info.fileEnding}`) : undefined;
      const present = label ? await access(label).then(() => true, () => false) : false;
      // Training cases must be labelled (nnU-Net's rule); other cases may be.
      if (training && !present) throw fileError(label!, 'expected the label file of this training case, found no such file', c.id);
      out.set(c.id, present ? { images: c.images, label } : { images: c.images });
    }
    return out;
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message.slice(0, 40))) return;
    this.warned.add(message.slice(0, 40));
    this.options.onWarning?.(message);
  }
}

/** Ids of the label files `<id><ending>` of a folder, sorted. */
async function listLabelIds(dir: string, fileEnding: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw fileError(dir, `cannot read the label folder (${describeSystemError(err)})`);
  }
  const ids = names.filter((n) => !n.startsWith('.') && n.endsWith(fileEnding) && !parseChannelFileName(n, fileEnding)).map((n) => n.slice(0, -fileEnding.length));
  if (ids.length === 0) throw fileError(dir, `no label files found (expected <case>${fileEnding})`);
  return ids.sort();
}

/**
 * Registry entry: the `nnunet` dataset (options: {@link NnunetDatasetOptions}).
 *
 * `dataset.json` is read when the dataset is created, so a bad file fails at once with its
 * one-line error.
 */
export const nnunetDatasetFactory: DatasetFactory<NnunetDatasetOptions> = {
  name: 'nnunet',
  description: 'nnU-Net v2 raw dataset (dataset.json, imagesTr/<case>_XXXX.nii.gz, labelsTr/): crop + z-score, targets from dataset.json labels/regions, disk cache',
  create: (options) => new NnunetDataset(options),
  detect: (root) => detectNnunetFolder(root),
};
