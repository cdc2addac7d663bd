import { Rng, type CaseData, type Shape3 } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { da4Pipeline } from '../augmentation/da4.js';
import { preprocessCase } from '../preprocessing/index.js';
import { bratsTargetEncoding } from '../regions/index.js';
import { SYNTHETIC_MODALITIES, synthesizeCase } from '../synthetic/index.js';
import { PatchBatchProvider } from './patch-batch-provider.js';

// End to end inside the package: synthetic BraTS-like cases -> nnU-Net preprocessing ->
// patches with DA4 -> WT/TC/ET targets through the package's real region encoding.
function syntheticCase(seed: number): CaseData {
  const s = synthesizeCase(new Rng(seed), [40, 44, 36]);
  const p = preprocessCase({ channels: SYNTHETIC_MODALITIES.map((m) => s.images[m]), label: s.seg, shape: s.shape });
  return {
    meta: { id: `synth${seed}`, affine: s.affine, spacing: [1, 1, 1], originalShape: s.shape, cropBox: p.cropBox, modalities: [...SYNTHETIC_MODALITIES], files: {} },
    image: p.image,
    shape: p.shape,
    ...(p.label ? { label: p.label } : {}),
  };
}

describe('sampling synthetic BraTS cases', () => {
  const cases = [syntheticCase(1), syntheticCase(2)];
  const targets = bratsTargetEncoding();
  const P: Shape3 = [16, 16, 16];

  it('centres the oversampled patch on tumour and encodes WT/TC/ET nested', async () => {
    const p = new PatchBatchProvider({ cases, targets, patchSize: P, batchSize: 2, seed: 1 });
    const n = 16 ** 3;
    for (let i = 0; i < 5; i++) {
      const b = await p.batch(i);
      const centre = n + (8 * 16 + 8) * 16 + 8;
      expect(b.target[centre * 3]).toBe(1); // WT
      for (let v = 0; v < 2 * n; v++) {
        const [wt, tc, et] = [b.target[v * 3]!, b.target[v * 3 + 1]!, b.target[v * 3 + 2]!];
        expect(wt >= tc && tc >= et).toBe(true);
      }
    }
  });

  it('augments with DA4 deterministically, with finite images and binary targets', async () => {
    const mk = () => new PatchBatchProvider({ cases, targets, patchSize: P, batchSize: 2, seed: 2, augmenters: da4Pipeline({ p: 1 }) });
    const a = await mk().batch(3);
    expect(await mk().batch(3)).toEqual(a);
    expect(a.image.every(Number.isFinite)).toBe(true);
    expect(a.target.every((v) => v === 0 || v === 1)).toBe(true);
    expect(a.target.some((v) => v === 1)).toBe(true);
  });
});
