import { Rng } from '@voxseg/core';
import { labelsToRegions, regionsToLabels } from '@voxseg/plugin-data-brats';
import { describe, expect, it } from 'vitest';
import { parseDatasetJson } from '../format/dataset-json.js';
import { bratsToNnunetLabels, brats2021DatasetJson, nnunetToBratsLabels } from '../synthetic/synthesize-nnunet-dataset.js';
import { nnunetTargetEncoding } from './nnunet-targets.js';

const spec = (labels: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseDatasetJson({ channel_names: { 0: 'x' }, labels, numTraining: 1, file_ending: '.nii.gz', ...extra }, 'dataset.json');

// Every expected value below is worked out by hand from nnU-Net's rules
// (documentation/region_based_training.md; LabelManager.convert_probabilities_to_segmentation):
// region k holds the voxels whose label is in its list; decoding writes regions_class_order[k]
// for k = 0, 1, ... where p_k > threshold, later regions overwriting earlier ones.
describe('region-based targets (Dataset137_BraTS2021)', () => {
  const t = nnunetTargetEncoding(parseDatasetJson(brats2021DatasetJson(1), 'dataset.json'));

  it('one channel per foreground region, in labels order, named by the key', () => {
    expect(t.channels).toEqual(['whole tumor', 'tumor core', 'enhancing tumor']);
  });

  it('encodes labels 0..3 to nested regions', () => {
    // label: 0 -> none; 1 (edema) -> WT; 2 (necrosis) -> WT, TC; 3 (enhancing) -> WT, TC, ET.
    expect(Array.from(t.encode(Uint8Array.from([0, 1, 2, 3]), [1, 2, 2]))).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });

  it('decodes by writing 1, 2, 3 in region order, later regions overwriting', () => {
    const p = Float32Array.from([
      0.9, 0.2, 0.1, // WT only -> 1
      0.9, 0.8, 0.1, // WT, TC -> 2
      0.9, 0.8, 0.7, // all -> 3
      0.2, 0.2, 0.9, // ET alone still writes 3 (written last)
      0.5, 0.5, 0.5, // equal to the threshold does not count -> 0
      0.4, 0.6, 0.4, // TC without WT -> 2
    ]);
    expect(Array.from(t.decode(p, [1, 2, 3]))).toEqual([1, 2, 3, 3, 0, 2]);
    expect(Array.from(t.decode(p, [1, 2, 3], 0.3))).toEqual([1, 2, 3, 3, 3, 3]);
  });

  it('agrees with the BraTS plugin through nnU-Net\'s label conversion (0/1/2/4 <-> 0/2/1/3)', () => {
    // Independent check: the BraTS plugin's own WT/TC/ET code and Dataset137_BraTS21.py's mapping.
    const brats = Uint8Array.from([0, 1, 2, 4, 4, 2, 1, 0]);
    expect(Array.from(bratsToNnunetLabels(brats))).toEqual([0, 2, 1, 3, 3, 1, 2, 0]);
    expect(Array.from(nnunetToBratsLabels(bratsToNnunetLabels(brats)))).toEqual(Array.from(brats));
    expect(t.encode(bratsToNnunetLabels(brats), [2, 2, 2])).toEqual(labelsToRegions(brats));
    const rng = new Rng(7);
    const p = Float32Array.from({ length: 3 * 4096 }, () => rng.uniform(0, 1));
    expect(nnunetToBratsLabels(t.decode(p, [16, 16, 16]))).toEqual(regionsToLabels(p, [16, 16, 16]));
    expect(() => bratsToNnunetLabels([3])).toThrow(/unexpected BraTS label 3 at voxel 0/);
  });

  it('overlapping, non-nested regions follow regions_class_order too', () => {
    const u = nnunetTargetEncoding(spec({ background: 0, a: [1, 2], b: [2, 3] }, { regions_class_order: [1, 3] }));
    expect(u.channels).toEqual(['a', 'b']);
    expect(Array.from(u.encode(Uint8Array.from([0, 1, 2, 3]), [1, 1, 4]))).toEqual([0, 0, 1, 0, 1, 1, 0, 1]);
    expect(Array.from(u.decode(Float32Array.from([0.9, 0.1, 0.9, 0.9, 0.1, 0.9]), [1, 1, 3]))).toEqual([1, 3, 3]);
  });
});

describe('plain-label targets (Dataset005_Prostate)', () => {
  // Labels listed out of value order: channels still follow the label value.
  const t = nnunetTargetEncoding(spec({ background: 0, TZ: 2, PZ: 1 }));

  it('one sigmoid channel per foreground label, by increasing value', () => {
    expect(t.channels).toEqual(['PZ', 'TZ']);
    expect(Array.from(t.encode(Uint8Array.from([0, 1, 2]), [1, 1, 3]))).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('decodes to the most probable label above the threshold, else background; ties to the lower label', () => {
    const p = Float32Array.from([0.7, 0.9, 0.9, 0.7, 0.4, 0.3, 0.6, 0.6, 0.5, 0.2]);
    expect(Array.from(t.decode(p, [1, 1, 5]))).toEqual([2, 1, 0, 1, 0]);
    expect(Array.from(t.decode(p, [1, 1, 5], 0.25))).toEqual([2, 1, 1, 1, 1]);
  });

  it('rejects arrays of the wrong size', () => {
    expect(() => t.encode(new Uint8Array(5), [1, 2, 2])).toThrow(/5 voxels, shape 1x2x2 needs 4/);
    expect(() => t.decode(new Float32Array(5), [1, 1, 2])).toThrow(/5 values is not a multiple of 2 channels/);
  });
});
