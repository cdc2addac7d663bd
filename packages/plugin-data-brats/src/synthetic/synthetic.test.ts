import { Rng } from '@voxseg/core';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNifti } from '../io/read-nifti.js';
import { validateDataset } from '../validation/validate-dataset.js';
import { synthesizeCase } from './synthesize-case.js';
import { synthesizeDataset } from './synthesize-dataset.js';

const SHAPE: [number, number, number] = [64, 64, 56];

function meanWhere(img: Int16Array, pick: (i: number) => boolean): number {
  let s = 0, n = 0;
  for (let i = 0; i < img.length; i++) if (pick(i)) { s += img[i]!; n++; }
  return n ? s / n : NaN;
}

describe('synthesizeCase', () => {
  it('is deterministic given the seed and differs between seeds', () => {
    const a = synthesizeCase(new Rng(5), SHAPE);
    const b = synthesizeCase(new Rng(5), SHAPE);
    const c = synthesizeCase(new Rng(6), SHAPE);
    expect(a.shape).toEqual([56, 64, 64]);
    expect(Buffer.from(a.images.flair.buffer).equals(Buffer.from(b.images.flair.buffer))).toBe(true);
    expect(Buffer.from(a.seg.buffer).equals(Buffer.from(b.seg.buffer))).toBe(true);
    expect(Buffer.from(a.images.flair.buffer).equals(Buffer.from(c.images.flair.buffer))).toBe(false);
  });

  it('looks like a skull-stripped BraTS case: zero background, labels 0/1/2/4 inside the brain, BraTS affine', () => {
    const c = synthesizeCase(new Rng(11), SHAPE);
    const n = c.seg.length;
    let brain = 0, maskMismatch = 0, labelOutside = 0, badLabel = 0;
    for (let i = 0; i < n; i++) {
      const inBrain = c.images.t1[i]! > 0;
      if ((c.images.t2[i]! > 0) !== inBrain || (c.images.flair[i]! > 0) !== inBrain || (c.images.t1ce[i]! > 0) !== inBrain) maskMismatch++;
      if (inBrain) brain++;
      else if (c.seg[i] !== 0) labelOutside++;
      if (![0, 1, 2, 4].includes(c.seg[i]!)) badLabel++;
    }
    expect([maskMismatch, labelOutside, badLabel]).toEqual([0, 0, 0]);
    expect(brain / n).toBeGreaterThan(0.12); // BraTS: about 0.16
    expect(brain / n).toBeLessThan(0.6);
    expect(c.images.t1[0]).toBe(0); // corner
    expect(c.affine).toEqual([[-1, 0, 0, 0], [0, -1, 0, 63], [0, 0, 1, 0], [0, 0, 0, 1]]);
  });

  it('has learnable tumour contrasts: edema bright on flair/t2, enhancing bright and necrosis dark on t1ce', () => {
    let checked = 0;
    for (let seed = 0; seed < 12 && checked < 3; seed++) {
      const c = synthesizeCase(new Rng(seed), SHAPE);
      if (c.tumour.kind !== 'rim') continue;
      checked++;
      const healthy = (i: number) => c.seg[i] === 0 && c.images.t1[i]! > 0;
      const lab = (l: number) => (i: number) => c.seg[i] === l;
      expect(meanWhere(c.images.flair, lab(2))).toBeGreaterThan(1.4 * meanWhere(c.images.flair, healthy));
      expect(meanWhere(c.images.t2, lab(2))).toBeGreaterThan(meanWhere(c.images.t2, healthy));
      expect(meanWhere(c.images.t1ce, lab(4))).toBeGreaterThan(1.6 * meanWhere(c.images.t1ce, healthy));
      expect(meanWhere(c.images.t1ce, lab(1))).toBeLessThan(0.6 * meanWhere(c.images.t1ce, lab(4)));
      expect(c.tumour.voxels.enhancing).toBeGreaterThan(200); // survives the ET post-processing
    }
    expect(checked).toBe(3);
  });

  it('sometimes has no enhancing part and sometimes no necrosis', () => {
    const kinds = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const c = synthesizeCase(new Rng(seed), [24, 20, 16]);
      kinds.add(c.tumour.kind);
      if (c.tumour.kind === 'no-enhancing') expect(c.seg.includes(4)).toBe(false);
      if (c.tumour.kind === 'no-necrosis') expect(c.seg.includes(1)).toBe(false);
    }
    expect([...kinds].sort()).toEqual(['no-enhancing', 'no-necrosis', 'rim']);
  });

  it('rejects a bad shape', () => {
    expect(() => synthesizeCase(new Rng(0), [4, 20, 16])).toThrow(/shape must be 3 integers/);
  });
});

describe('synthesizeDataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voxseg-synth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes valid BraTS-layout cases (int16 images, uint8 seg) and refuses to overwrite without force', async () => {
    const out = join(dir, 'data');
    const progress: string[] = [];
    const ids = await synthesizeDataset(out, 2, 7, { shape: [24, 20, 16], onProgress: (d, t, id) => progress.push(`${d}/${t} ${id}`) });
    expect(ids).toEqual(['BraTS2021_00000', 'BraTS2021_00001']);
    expect(progress).toEqual(['1/2 BraTS2021_00000', '2/2 BraTS2021_00001']);
    expect((await readdir(join(out, ids[0]!))).sort()).toEqual(
      ['flair', 'seg', 't1', 't1ce', 't2'].map((m) => `BraTS2021_00000_${m}.nii.gz`),
    );
    const t1 = await readNifti(join(out, ids[0]!, 'BraTS2021_00000_t1.nii.gz'), { as: 'native' });
    expect(t1.data).toBeInstanceOf(Int16Array);
    expect(t1.shape).toEqual([16, 20, 24]);
    expect(t1.affine).toEqual([[-1, 0, 0, 0], [0, -1, 0, 19], [0, 0, 1, 0], [0, 0, 0, 1]]);
    const seg = await readNifti(join(out, ids[0]!, 'BraTS2021_00000_seg.nii.gz'), { as: 'native' });
    expect(seg.data).toBeInstanceOf(Uint8Array);
    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);

    const before = (await stat(join(out, ids[1]!, 'BraTS2021_00001_t1.nii.gz'))).mtimeMs;
    await expect(synthesizeDataset(out, 3, 7, { shape: [24, 20, 16] })).rejects.toThrow(/BraTS2021_00000: already exists; pass --force/);
    // nothing was written: case 2 was not created, case 1 untouched
    expect((await readdir(out)).sort()).toEqual(ids);
    expect((await stat(join(out, ids[1]!, 'BraTS2021_00001_t1.nii.gz'))).mtimeMs).toBe(before);
    // same seed, force: identical files
    const again = join(dir, 'again');
    await synthesizeDataset(again, 1, 7, [24, 20, 16]); // shape as the 4th argument
    const a = await readNifti(join(again, ids[0]!, 'BraTS2021_00000_flair.nii.gz'), { as: 'native' });
    const b = await readNifti(join(out, ids[0]!, 'BraTS2021_00000_flair.nii.gz'), { as: 'native' });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    await synthesizeDataset(again, 1, 8, { shape: [24, 20, 16], force: true });
  });
});
