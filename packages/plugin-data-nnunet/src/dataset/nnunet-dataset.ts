import type { CaseData, CaseMeta, Dataset, DatasetFactory, TargetEncoding } from '@voxseg/core';
import {
  CaseCache,
  DataError,
  PREPROCESSING_VERSION,
  type ReadResult,
  checkCaseVolumes,
  fileError,
  formatProblem,
  preprocessCase,
  readNifti,
} from '@voxseg/plugin-data-brats';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { type NnunetCaseFiles, listNnunetCases } from '../format/case-files.js';
import { DATASET_JSON, type NnunetDatasetJson, readDatasetJsonFile, readDatasetJsonFileSync } from '../format/dataset-json.js';
import { nnunetTargetEncoding } from '../targets/nnunet-targets.js';

/** Which cases of an nnU-Net dataset folder a {@link NnunetDataset} reads. */
export type NnunetSubset = 'train' | 'test';

/** Options of the `nnunet` dataset. `root` is required, except with both `images` and `datasetJson`. */
export interface NnunetDatasetOptions {
  /** The nnU-Net raw dataset folder (`DatasetXXX_Name/`, holding `dataset.json`). */
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
 * `preprocessCase`, and cached on disk with its `CaseCache`. Targets come from `dataset.json`
 * ({@link nnunetTargetEncoding}); label values in the files are kept as stored (nnU-Net's
 * consecutive integers).
 */
export class NnunetDataset implements Dataset {
  readonly name = 'nnunet';
  /** The `dataset.json` file in use. */
  readonly jsonFile: string;
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
    const given = (v: unknown) => typeof v === 'string' && v.length > 0;
    if (!given(options?.root) && !(given(options?.images) && given(options?.datasetJson))) {
      throw new DataError('nnunet dataset: option "root" (the nnU-Net dataset folder, holding dataset.json) is required, or both "images" and "datasetJson"');
    }
    this.jsonFile = options.datasetJson ?? join(options.root!, DATASET_JSON);
    if (options.subset !== undefined && options.subset !== 'train' && options.subset !== 'test') {
      throw new DataError(`nnunet dataset: option "subset" must be "train" or "test", got ${JSON.stringify(options.subset)}`);
    }
    this.datasetJson = datasetJson ?? readDatasetJsonFileSync(this.jsonFile);
    this.inChannels = this.datasetJson.channelNames.length;
    this.targets = nnunetTargetEncoding(this.datasetJson);
    const dir =
      options.cacheDir !== undefined ? options.cacheDir : options.images !== undefined ? false : join(options.root!, '.voxseg-cache', this.imagesFolderName);
    this.cache = dir === false ? null : new CaseCache(dir);
  }

  /** Read `dataset.json` asynchronously, then construct (for code that avoids sync file reads). */
  static async open(options: NnunetDatasetOptions): Promise<NnunetDataset> {
    const file = options?.datasetJson ?? (typeof options?.root === 'string' ? join(options.root, DATASET_JSON) : undefined);
    return new NnunetDataset(options, file ? await readDatasetJsonFile(file) : undefined);
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
    if (!files) throw new DataError(`case ${id}: not found in ${this.imagesDir}`, undefined, id);
    const sources = files.label ? [...files.images, files.label] : files.images;
    const key = this.cache ? await this.cache.keyOf(sources, { plugin: 'nnunet', version: PREPROCESSING_VERSION }) : '';
    if (this.cache) {
      const hit = await this.cache.get(id, key);
      if (hit) return hit;
    }
    const names = this.modalityNames(info);
    const read = await Promise.all([
      ...files.images.map((f, c) => readOne(names[c]!, f, 'float32')),
      ...(files.label ? [readOne('seg', files.label, 'native')] : []),
    ]);
    const problems = checkCaseVolumes(id, read, { labels: info.allLabels });
    if (problems.length > 0) {
      const p = problems[0]!;
      const first = p.check === 'labels' ? { ...p, expected: `${p.expected} (the values of "labels" in ${this.jsonFile})` } : p;
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
      throw new DataError(`${formatProblem(first)}${more}`, p.file, id);
    }
    const images = read.filter((r) => r.role !== 'seg').map((r) => r.volume!);
    const seg = read.find((r) => r.role === 'seg')?.volume;
    const ref = images[0]!;
    const pre = preprocessCase({ channels: images.map((v) => v.data), label: seg ? Uint8Array.from(seg.data) : undefined, shape: ref.shape });
    const fileMap: Record<string, string> = {};
    names.forEach((n, c) => (fileMap[n] = files.images[c]!));
    if (files.label) fileMap.seg = files.label;
    const meta: CaseMeta = {
      id,
      affine: ref.affine,
      spacing: ref.spacing,
      originalShape: pre.originalShape,
      cropBox: pre.cropBox,
      modalities: names,
      files: fileMap,
      header: ref.header,
    };
    const data: CaseData = pre.label ? { meta, image: pre.image, shape: pre.shape, label: pre.label } : { meta, image: pre.image, shape: pre.shape };
    if (this.cache) {
      try {
        await this.cache.put(id, key, data);
      } catch (err) {
        this.warnOnce(`preprocessed cases are not cached: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return data;
  }

  /** The folder the case images are read from. */
  get imagesDir(): string {
    return this.options.images ?? join(this.options.root!, this.imagesFolderName);
  }

  private get imagesFolderName(): string {
    return this.options.subset === 'test' ? 'imagesTs' : 'imagesTr';
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
    const listed: NnunetCaseFiles[] = await listNnunetCases(this.imagesDir, { fileEnding: info.fileEnding, channels: info.channelNames.length, channelNames: info.channelNames });
    const labelsDir = this.options.images !== undefined ? this.options.labels : join(this.options.root!, this.options.subset === 'test' ? 'labelsTs' : 'labelsTr');
    const training = this.options.images === undefined && this.options.subset !== 'test';
    if (training && listed.length !== info.numTraining) {
      throw fileError(
        this.jsonFile,
        `"numTraining" is ${info.numTraining}, but ${this.imagesDir} holds ${listed.length} case${listed.length === 1 ? '' : 's'}`,
      );
    }
    const out = new Map<string, { images: string[]; label?: string }>();
    for (const c of listed) {
      const label = labelsDir ? join(labelsDir, `${c.id}${info.fileEnding}`) : undefined;
      const present = label ? await access(label).then(() => true, () => false) : false;
      // Training cases must be labelled (nnU-Net's rule); test cases may be.
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

async function readOne(role: string, file: string, as: 'float32' | 'native'): Promise<ReadResult> {
  try {
    return { role, file, volume: await readNifti(file, { as }) };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    // The problem report names the file itself: keep only the reason.
    const reason = err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
    return { role, file, error: reason };
  }
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
};
