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

/**
 * A source of cases. Implementations: `@voxseg/plugin-data-brats` (`brats2021` folder
 * reader), in-memory datasets in tests and examples.
 */
export interface Dataset {
  /** Human-readable name used in logs. */
  readonly name: string;
  /** Number of image channels every case has. */
  readonly inChannels: number;
  /** How labels map to target channels. */
  readonly targets: TargetEncoding;
  /** All case ids, sorted (folds are computed over this order). */
  caseIds(): Promise<string[]>;
  /** Load and preprocess one case. Rejects with an error naming the case and file on bad input. */
  loadCase(id: string): Promise<CaseData>;
}

/** Registry entry for datasets: options are dataset-specific (e.g. `{ root: 'data/' }`). */
export type DatasetFactory<O = Record<string, unknown>> = Factory<Dataset, O>;
