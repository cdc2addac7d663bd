import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/regions-golden.json' with { type: 'json' };
import { bratsTargetEncoding, labelsToRegions, postprocessEnhancing, regionsToLabels } from './brats-regions.js';

// Golden values computed with numpy from the reference rules (scripts/golden_regions.py).
const shape = golden.shape as [number, number, number];

describe('BraTS regions', () => {
  it('labels -> WT/TC/ET channels', () => {
    expect(Array.from(labelsToRegions(Uint8Array.from(golden.label), shape))).toEqual(golden.regions);
  });

  it.each(golden.decode)('channels -> labels at threshold $threshold and ET post-processing below $min_voxels', (c) => {
    const probs = Float32Array.from(golden.probabilities);
    const labels = regionsToLabels(probs, shape, c.threshold);
    expect(Array.from(labels)).toEqual(c.labels);
    postprocessEnhancing(labels, { minVoxels: c.min_voxels });
    expect(Array.from(labels)).toEqual(c.postprocessed);
  });

  it('hand-checked overwrite order: WT -> 2, TC -> 1, ET -> 4', () => {
    const probs = [0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.1, 0.9, 0.9, 0.5, 0.5, 0.5];
    expect(Array.from(regionsToLabels(probs))).toEqual([2, 1, 4, 4, 0]);
  });

  it('round trip labels -> regions -> labels is the identity on valid labels', () => {
    const label = Uint8Array.from([0, 1, 2, 4, 4, 2, 1, 0]);
    const enc = bratsTargetEncoding();
    expect(enc.channels).toEqual(['WT', 'TC', 'ET']);
    const regions = enc.encode(label, [2, 2, 2]);
    expect(Array.from(enc.decode(Float32Array.from(regions), [2, 2, 2]))).toEqual(Array.from(label));
  });

  it('ET post-processing: at least minVoxels ET is kept, fewer becomes NCR', () => {
    const l = new Uint8Array(300).fill(4);
    expect(postprocessEnhancing(l.subarray(0, 200))).toEqual({ etVoxels: 200, replaced: false });
    const small = new Uint8Array(300).fill(2);
    small.fill(4, 0, 199);
    expect(postprocessEnhancing(small)).toEqual({ etVoxels: 199, replaced: true });
    expect(small.filter((v) => v === 1).length).toBe(199);
  });

  it('rejects a shape that does not match', () => {
    expect(() => labelsToRegions(new Uint8Array(5), [1, 2, 3])).toThrow(/shape 1x2x3 needs 6/);
    expect(() => regionsToLabels(new Float32Array(4))).toThrow(/3 channels/);
  });
});
