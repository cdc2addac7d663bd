/**
 * How a BraTS-layout folder names its files: `<root>/<id>/<id><suffix><extension>`.
 * Every field has the BraTS 2021 default; change them for BraTS 2020/2023 or other datasets
 * with the same one-folder-per-case layout.
 */
export interface BratsLayoutOptions {
  /**
   * Modality names in channel order (default `['t1', 't1ce', 't2', 'flair']`, nnU-Net's
   * BraTS channel order 0000..0003).
   */
  modalities?: string[];
  /**
   * File suffix of each modality (default `_<modality>`), e.g. `{ t1ce: '-t1c' }` for
   * BraTS 2023 names. Only the modalities listed in `modalities` are used.
   */
  suffixes?: Record<string, string>;
  /** Suffix of the segmentation (default `_seg`); cases without it are unlabelled. */
  segSuffix?: string;
  /** File extensions tried in order (default `['.nii.gz', '.nii']`). */
  extensions?: string[];
}

/** A layout with every default filled in. */
export interface BratsLayout {
  /** Modality names in channel order. */
  modalities: string[];
  /** File suffix of every modality. */
  suffixes: Record<string, string>;
  /** File suffix of the segmentation. */
  segSuffix: string;
  /** File extensions tried in order. */
  extensions: string[];
}

/** BraTS 2021 modality order. */
export const BRATS_MODALITIES: readonly string[] = ['t1', 't1ce', 't2', 'flair'];

/** Fill in the defaults of a layout; rejects empty or duplicate modality names. */
export function resolveLayout(options: BratsLayoutOptions = {}): BratsLayout {
  const modalities = options.modalities ?? [...BRATS_MODALITIES];
  if (modalities.length === 0) throw new RangeError('BraTS layout: at least one modality is needed');
  if (new Set(modalities).size !== modalities.length) throw new RangeError(`BraTS layout: duplicate modality in [${modalities.join(', ')}]`);
  const suffixes: Record<string, string> = {};
  for (const m of modalities) suffixes[m] = options.suffixes?.[m] ?? `_${m}`;
  return {
    modalities,
    suffixes,
    segSuffix: options.segSuffix ?? '_seg',
    extensions: options.extensions ?? ['.nii.gz', '.nii'],
  };
}
