import type { Affine, Box3, Shape3, Shape4 } from '../volume/types.js';
import type { Factory } from './factory.js';

/** Geometry and provenance of one case: everything needed to write a prediction back. */
export interface CaseMeta {
  /** Case id, e.g. `BraTS2021_00000`. */
  id: string;
  /** Voxel-to-world affine of the source images (4x4, NIfTI i/j/k order). */
  affine: Affine;
  /** Voxel spacing in mm in [D, H, W] order (= NIfTI pixdim[3], pixdim[2], pixdim[1]). */
  spacing: Shape3;
  /** Spatial shape of the source images before cropping, [D, H, W]. */
  originalShape: Shape3;
  /** Where the loaded (cropped) arrays sit inside the original grid. */
  cropBox: Box3;
  /** Modality names in channel order, e.g. ['t1', 't1ce', 't2', 'flair']. */
  modalities: string[];
  /** Source file paths by modality (and `seg`), for error messages and for writing back. */
  files: Record<string, string>;
  /** Opaque, dataset-specific header of the reference image (e.g. a NIfTI header) used to write outputs. */
  header?: unknown;
}

/** One loaded, preprocessed case. */
export interface CaseData {
  meta: CaseMeta;
  /** Preprocessed image, float32, channels-last [D, H, W, C]. */
  image: Float32Array;
  /** Shape of `image`. */
  shape: Shape4;
  /**
   * Label map [D, H, W] of class values as stored in the dataset (e.g. BraTS 0/1/2/4), or
   * undefined for unlabelled cases.
   */
  label?: Uint8Array;
}

/** How a dataset's label map becomes the network's target channels and back. */
export interface TargetEncoding {
  /** Names of the target channels in order, e.g. ['WT', 'TC', 'ET']. */
  channels: string[];
  /** Label map [D,H,W] -> binary targets [D,H,W,K] (channels-last, 0/1). */
  encode(label: Uint8Array, shape: Shape3): Uint8Array;
  /**
   * Per-channel probabilities [D,H,W,K] -> a label map [D,H,W] (e.g. BraTS: WT->2, TC->1, ET->4).
   * @param threshold probability above which a channel counts as present (default 0.5)
   */
  decode(probabilities: Float32Array, shape: Shape3, threshold?: number): Uint8Array;
}

/** A label map as stored in a file, in its own grid (for evaluation). */
export interface LabelMap {
  /** Label values [D, H, W], e.g. BraTS 0/1/2/4. */
  data: Uint8Array;
  shape: Shape3;
  /** Voxel spacing in mm, [D, H, W]. */
  spacing: Shape3;
}

/** What {@link Dataset.checkCases} reports. */
export interface DatasetValidation {
  /** Cases that can be trained on (valid and labelled), sorted. */
  valid: string[];
  /** Invalid cases, with one line per problem. */
  skipped: { id: string; reasons: string[] }[];
  /** Valid cases without a label (usable for prediction only). */
  unlabelled?: string[];
}

/**
 * A source of cases: what the engine trains on, predicts and evaluates, with no knowledge of
 * the folder format. Implementations: `@voxseg/plugin-data-brats` (`brats2021`),
 * `@voxseg/plugin-data-nnunet` (`nnunet`), in-memory datasets in tests and examples.
 *
 * Required: `name`, `inChannels`, `targets`, `caseIds()`, `loadCase()`. The optional hooks
 * below let the engine do more with no dataset-specific code; each says what happens without it.
 */
export interface Dataset {
  /** Human-readable name used in logs. */
  readonly name: string;
  /** Number of image channels every case has. */
  readonly inChannels: number;
  /** How labels map to target channels (training targets) and back (`decode`: predictions). */
  readonly targets: TargetEncoding;
  /** All case ids, sorted (folds are computed over this order). */
  caseIds(): Promise<string[]>;
  /** Load and preprocess one case. Rejects with an error naming the case and file on bad input. */
  loadCase(id: string): Promise<CaseData>;
  /**
   * Check every case before minutes of work start (`voxseg train` calls it first). Cases with
   * a fresh preprocessed cache may be reported valid without reading them again.
   * Without it: every id of `caseIds()` is taken as valid and labelled.
   */
  checkCases?(options?: { onProgress?: (done: number, total: number, caseId: string) => void }): Promise<DatasetValidation>;
  /**
   * Dataset-specific post-processing of a predicted label map (in the cropped grid, in place),
   * e.g. BraTS: small enhancing tumour becomes necrosis. `options` come from the experiment
   * config's `inference.postprocess`. Returns whether anything changed.
   * Without it: no post-processing.
   */
  postprocess?(labels: Uint8Array, shape: Shape3, options: Record<string, unknown>): boolean;
  /**
   * Write a predicted label map (in the case's original grid, `meta.originalShape`) for case
   * `meta.id` into `outDir`, in the dataset's file format and naming (BraTS: `<id>.nii.gz`
   * with the header of the case's images), atomically. Returns the file written.
   * Without it: `voxseg predict` refuses this dataset with one line.
   */
  writePrediction?(meta: CaseMeta, labels: Uint8Array, outDir: string): Promise<string>;
  /**
   * The reference label file of case `id` in this dataset's folder, or undefined when it has
   * none (`voxseg evaluate --gt`). Without it (or {@link readLabelMap}): no evaluation.
   */
  referenceFile?(id: string): Promise<string | undefined>;
  /**
   * Options for metrics that follow this dataset's evaluation conventions, by metric name,
   * merged under the config's metric options: e.g. BraTS `{ hd95: { oneEmpty: 373.12866 } }`.
   * Without it: the metrics' own defaults.
   */
  readonly metricOptions?: Record<string, Record<string, unknown>>;
  /** Read a label map file (a reference, or a prediction written by {@link writePrediction}). */
  readLabelMap?(file: string): Promise<LabelMap>;
  /**
   * Keep in a run folder, atomically, what reading this dataset's prediction inputs needs
   * besides the images (nnU-Net: a copy of `dataset.json`: channels, labels, regions, file
   * ending). The engine calls it when a training run starts. When it predicts with that run,
   * it passes the run folder back as the `run` option ({@link DatasetFactory}), so a folder of
   * images alone can be read without the training dataset at hand.
   * Without it: nothing is kept; prediction inputs must be readable on their own.
   */
  keepInRun?(runDir: string): Promise<void>;
}

/**
 * Registry entry for datasets. `create(options)`: options are dataset-specific, plus these
 * the engine sets:
 * - `root`: the folder (from `--data`, `--input`, `--gt`);
 * - `readOnly: true` when the folder is only read for prediction or evaluation: the dataset
 *   must then write nothing into it (no preprocessed-case cache);
 * - `run`: when predicting with a run trained on this dataset, that run's folder (where
 *   {@link Dataset.keepInRun} kept what the inputs need).
 */
export interface DatasetFactory<O = Record<string, unknown>> extends Factory<Dataset, O> {
  /**
   * Whether `root` is a folder of this dataset's format. The engine picks the dataset of a
   * folder by asking every registered dataset in name order when the config says
   * `"dataset": { "name": "auto" }` (the default), so neither core nor the engine knows any
   * format: e.g. `nnunet` answers true when `root/dataset.json` exists (or for a flat folder of
   * `<case>_0000.nii.gz` images), `brats2021` when a case folder `<id>/<id>_t1.nii.gz` exists.
   * Must be cheap (a few file-system checks) and never throw for a missing folder.
   * Without it: the dataset is used only when named.
   */
  detect?(root: string): boolean | Promise<boolean>;
}
