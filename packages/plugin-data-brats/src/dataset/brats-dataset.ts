import type { CaseData, CaseMeta, Dataset, DatasetFactory, DatasetValidation, LabelMap, Shape3, TargetEncoding } from '@voxseg/core';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../io/errors.js';
import { readNifti } from '../io/read-nifti.js';
import type { NiftiHeader } from '../io/nifti-header.js';
import { writeNifti } from '../io/write-nifti.js';
import { BRATS_HD95_ONE_EMPTY, postprocessEnhancing } from '../regions/brats-regions.js';
import { CaseCache, PREPROCESSING_VERSION } from '../preprocessing/case-cache.js';
import { bratsTargetEncoding } from '../regions/brats-regions.js';
import { checkCaseVolumes } from '../validation/check-volumes.js';
import { selectValidCases, type SkippedCase, validateCases, type ValidationReport } from '../validation/validate-dataset.js';
import { type CaseFiles, discoverCases } from './discover-cases.js';
import { type BratsLayout, type BratsLayoutOptions, resolveLayout } from './layout.js';
import { caseFromFiles } from './case-from-files.js';
import { readCaseFiles } from './read-case.js';

/** Options of the `brats2021` dataset. Every field but `root` is optional. */
export interface BratsDatasetOptions extends BratsLayoutOptions {
  /** The dataset folder: one sub-folder per case. */
  root: string;
  /**
   * Where preprocessed cases are cached: a folder path, or `false` for no cache.
   * Default `<root>/.voxseg-cache`. When the cache cannot be written (read-only data folder)
   * loading still works, uncached, and `onWarning` is told once.
   */
  cacheDir?: string | false;
  /**
   * Leave invalid cases out instead of refusing the dataset (default false). With it,
   * `caseIds()` validates every case first (cases with a fresh cache entry are known valid)
   * and {@link BratsDataset.skippedCases} lists what was left out and why.
   */
  skipInvalid?: boolean;
  /**
   * The folder is only read (prediction inputs, evaluation references): no preprocessed-case
   * cache is written into it, whatever `cacheDir` says. Set by the engine. Default false.
   */
  readOnly?: boolean;
  /** Progress of long operations (validation in `caseIds()` with `skipInvalid`). */
  onProgress?: (phase: 'validate', done: number, total: number, caseId: string) => void;
  /** Non-fatal problems (e.g. the cache cannot be written). Default: ignored. */
  onWarning?: (message: string) => void;
}

/**
 * A BraTS 2021 folder as a voxseg {@link Dataset}: 4 channels (t1, t1ce, t2, flair), region
 * targets WT/TC/ET, cases loaded with nnU-Net's crop + z-score and cached on disk.
 */
export class BratsDataset implements Dataset {
  readonly name = 'brats2021';
  readonly inChannels: number;
  readonly targets: TargetEncoding = bratsTargetEncoding();
  /** nnU-Net's BraTS evaluation: HD95 373.12866 mm for a region present in only one mask. */
  readonly metricOptions = { hd95: { oneEmpty: BRATS_HD95_ONE_EMPTY } };
  /** File naming in use (defaults filled in). */
  readonly layout: BratsLayout;
  /** The preprocessed-case cache, or null when disabled. */
  readonly cache: CaseCache | null;
  private cases?: Promise<Map<string, CaseFiles>>;
  private selected?: Promise<{ valid: string[]; skipped: SkippedCase[] }>;
  private cacheWarned = false;

  /** @param options see {@link BratsDatasetOptions}; only `root` is required */
  constructor(readonly options: BratsDatasetOptions) {
    if (typeof options?.root !== 'string' || options.root.length === 0) {
      throw new DataError('brats2021 dataset: option "root" (the dataset folder) is required');
    }
    this.layout = resolveLayout(options);
    this.inChannels = this.layout.modalities.length;
    const dir = options.readOnly ? false : options.cacheDir === undefined ? join(options.root, '.voxseg-cache') : options.cacheDir;
    this.cache = dir === false ? null : new CaseCache(dir);
  }

  /** Discovered case files by id (discovered once). */
  async caseFiles(): Promise<Map<string, CaseFiles>> {
    this.cases ??= discoverCases(this.options.root, this.layout).then((list) => new Map(list.map((c) => [c.id, c])));
    return this.cases;
  }

  /** Sorted case ids; with `skipInvalid`, only the valid ones (see {@link skippedCases}). */
  async caseIds(): Promise<string[]> {
    if (!this.options.skipInvalid) return [...(await this.caseFiles()).keys()];
    return (await this.selectCases(true)).valid;
  }

  /** The cases `caseIds()` left out because they are invalid, with reasons (empty without `skipInvalid`). */
  async skippedCases(): Promise<SkippedCase[]> {
    return this.options.skipInvalid ? (await this.selectCases(true)).skipped : [];
  }

  /** Validate every case (every problem, one pass). Cases with a fresh cache entry are known valid. */
  async validate(onProgress?: (done: number, total: number, caseId: string) => void): Promise<ValidationReport> {
    const cases = [...(await this.caseFiles()).values()];
    return validateCases(this.options.root, cases, {
      ...this.layout,
      onProgress,
      // A fresh cache entry proves the case was valid when cached (only valid cases are cached).
      knownValid: async (c) => {
        if (!this.cache || c.missing.length > 0) return false;
        try {
          return await this.cache.has(c.id, await this.cacheKey(c));
        } catch {
          return false;
        }
      },
    });
  }

  /**
   * The engine's check before training or prediction (`Dataset.checkCases`): valid labelled
   * cases, valid cases without `_seg`, and invalid ones with their reasons.
   */
  async checkCases(options: { onProgress?: (done: number, total: number, caseId: string) => void } = {}): Promise<DatasetValidation> {
    const files = await this.caseFiles();
    const report = await this.validate(options.onProgress);
    const { valid, skipped } = selectValidCases(report, { skipInvalid: true });
    return { valid: valid.filter((id) => files.get(id)?.seg), skipped, unlabelled: valid.filter((id) => !files.get(id)?.seg) };
  }

  /** BraTS post-processing: fewer than `minVoxels` (default 200) ET voxels become necrosis. */
  postprocess(labels: Uint8Array, _shape: Shape3, options: Record<string, unknown>): boolean {
    const minVoxels = typeof options.minVoxels === 'number' ? options.minVoxels : undefined;
    return postprocessEnhancing(labels, minVoxels === undefined ? {} : { minVoxels }).replaced;
  }

  /** `<outDir>/<id>.nii.gz`, uint8 labels 0/1/2/4 with the header (affine) of the case's images. */
  async writePrediction(meta: CaseMeta, labels: Uint8Array, outDir: string): Promise<string> {
    const file = join(outDir, `${meta.id}.nii.gz`);
    await writeNifti(file, labels, { reference: meta.header as NiftiHeader, datatype: 'uint8' });
    return file;
  }

  /** `<root>/<id>/<id>_seg.nii.gz` (or `.nii`), else `<root>/<id>.nii.gz` (a folder of label files). */
  async referenceFile(id: string): Promise<string | undefined> {
    const root = this.options.root;
    const candidates = [join(root, id, `${id}_seg.nii.gz`), join(root, id, `${id}_seg.nii`), join(root, `${id}.nii.gz`), join(root, `${id}.nii`)];
    return candidates.find((c) => existsSync(c));
  }

  /** A label NIfTI as stored (values as integers), with its spacing. */
  async readLabelMap(file: string): Promise<LabelMap> {
    const v = await readNifti(file, { as: 'native' });
    return { data: Uint8Array.from(v.data as ArrayLike<number>), shape: v.shape, spacing: v.spacing };
  }

  /**
   * For training: the valid case ids, refusing the dataset when any case is invalid unless
   * `skipInvalid` (then the skipped cases come back with their reasons).
   * @throws DataError naming the first problem
   */
  async selectCases(skipInvalid = this.options.skipInvalid ?? false): Promise<{ valid: string[]; skipped: SkippedCase[] }> {
    const run = async () => {
      const report = await this.validate((d, t, id) => this.options.onProgress?.('validate', d, t, id));
      return selectValidCases(report, { skipInvalid: true });
    };
    this.selected ??= run();
    const result = await this.selected;
    if (!skipInvalid && result.skipped.length > 0) {
      const first = result.skipped[0]!;
      throw new DataError(
        `${result.skipped.length} of ${result.valid.length + result.skipped.length} cases in ${this.options.root} are invalid (first: ${first.reasons[0]}); ` +
          `run "voxseg check --data ${this.options.root}" to list every problem, or skip invalid cases (skipInvalid: true)`,
        undefined,
        first.id,
      );
    }
    return result;
  }

  /**
   * Load one case: read the files, check them, crop and normalise (nnU-Net), through the cache.
   * @throws DataError naming the case and file for an unknown id or invalid data
   */
  async loadCase(id: string): Promise<CaseData> {
    const files = (await this.caseFiles()).get(id);
    if (!files) throw new DataError(`case ${id}: not found in ${this.options.root}`, undefined, id);
    const cache = files.missing.length === 0 ? this.cache : null;
    const key = cache ? await this.cacheKey(files) : '';
    if (cache) {
      const hit = await cache.get(id, key);
      if (hit) return hit;
    }
    const read = await readCaseFiles(files, this.layout);
    const data = caseFromFiles(id, read, checkCaseVolumes(id, read), { modalities: [...this.layout.modalities], files: { ...files.images, ...(files.seg ? { seg: files.seg } : {}) } });
    if (cache) {
      try {
        await cache.put(id, key, data);
      } catch (err) {
        if (!this.cacheWarned) {
          this.cacheWarned = true;
          this.options.onWarning?.(`preprocessed cases are not cached: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return data;
  }

  /**
   * Preprocess cases ahead of training so the cache is warm (one case in memory at a time).
   * @param ids default: every case
   * @param onProgress called after each case
   */
  async preprocessAll(ids?: readonly string[], onProgress?: (done: number, total: number, caseId: string) => void): Promise<void> {
    const list = ids ?? (await this.caseIds());
    let done = 0;
    for (const id of list) {
      await this.loadCase(id);
      onProgress?.(++done, list.length, id);
    }
  }

  private cacheKey(c: CaseFiles): Promise<string> {
    const files = this.layout.modalities.map((m) => c.images[m]!).concat(c.seg ? [c.seg] : []);
    return this.cache!.keyOf(files, { layout: this.layout, version: PREPROCESSING_VERSION });
  }
}

/** Registry entry: the `brats2021` dataset (options: {@link BratsDatasetOptions}). */
export const brats2021DatasetFactory: DatasetFactory<BratsDatasetOptions> = {
  name: 'brats2021',
  description: 'BraTS 2021 folder (<id>/<id>_{t1,t1ce,t2,flair,seg}.nii.gz): nnU-Net crop + z-score, WT/TC/ET targets, disk cache',
  create: (options) => new BratsDataset(options),
  detect: (root) => isBratsFolder(root),
};

/**
 * Whether `root` looks like a BraTS folder: a case folder `<id>/<id>_t1.nii.gz` (or `.nii`), or
 * a flat folder of label files `<id>.nii.gz` next to no `dataset.json` (an evaluation reference).
 * A few directory reads; false for a missing folder.
 */
export function isBratsFolder(root: string): boolean {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return false;
  }
  if (entries.some((e) => e.isFile() && e.name === 'dataset.json')) return false;
  for (const e of entries) {
    if (e.isDirectory() && (existsSync(join(root, e.name, `${e.name}_t1.nii.gz`)) || existsSync(join(root, e.name, `${e.name}_t1.nii`)))) return true;
  }
  // A flat folder of label maps, unless it is part of an nnU-Net dataset (labelsTr/ beside dataset.json).
  if (existsSync(join(dirname(root), 'dataset.json'))) return false;
  return entries.some((e) => e.isFile() && /\.nii(\.gz)?$/.test(e.name) && !/_\d{4}\.nii(\.gz)?$/.test(e.name));
}
