import { Experiment } from '@voxseg/core';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NiftiHeader } from '../io/nifti-header.js';
import { readNifti } from '../io/read-nifti.js';
import { writeNifti } from '../io/write-nifti.js';
import { synthesizeDataset } from '../synthetic/synthesize-dataset.js';
import { BratsDataset, brats2021DatasetFactory } from './brats-dataset.js';
import { discoverCases } from './discover-cases.js';

const SHAPE: [number, number, number] = [24, 20, 16];
let root: string;
let ids: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'voxseg-ds-'));
  ids = await synthesizeDataset(join(root, 'data'), 3, 21, { shape: SHAPE });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('discoverCases', () => {
  it('lists case folders sorted, skipping hidden folders and loose files', async () => {
    const data = join(root, 'data');
    await mkdir(join(data, '.voxseg-cache'), { recursive: true });
    await writeFile(join(data, 'README.txt'), 'not a case');
    const cases = await discoverCases(data);
    expect(cases.map((c) => c.id)).toEqual(ids);
    expect(cases[0]!.images.t1ce).toBe(join(data, ids[0]!, `${ids[0]}_t1ce.nii.gz`));
    expect(cases[0]!.seg).toBe(join(data, ids[0]!, `${ids[0]}_seg.nii.gz`));
    expect(cases[0]!.missing).toEqual([]);
  });
  it('an empty folder, a missing folder and a file are one-line errors naming the path', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(discoverCases(empty)).rejects.toThrow(new RegExp(`${empty}: no case folders found \\(expected <id>/ sub-folders holding <id>_t1.nii.gz`));
    await expect(discoverCases(join(root, 'nope'))).rejects.toThrow(/nope: cannot read the dataset folder \(ENOENT/);
    await expect(discoverCases(join(root, 'data', 'README.txt'))).rejects.toThrow(/README\.txt: expected a dataset folder, found a file/);
  });
  it('follows symlinked case folders', async () => {
    const linked = join(root, 'linked');
    await mkdir(linked);
    await symlink(join(root, 'data', ids[0]!), join(linked, ids[0]!));
    expect((await discoverCases(linked)).map((c) => c.id)).toEqual([ids[0]]);
  });

  it('takes configurable modality suffixes and extensions', async () => {
    const alt = join(root, 'alt');
    await mkdir(join(alt, 'case1'), { recursive: true });
    await writeFile(join(alt, 'case1', 'case1-t1n.nii'), 'x');
    await writeFile(join(alt, 'case1', 'case1-t1c.nii.gz'), 'x');
    const [c] = await discoverCases(alt, { modalities: ['t1', 't1ce'], suffixes: { t1: '-t1n', t1ce: '-t1c' }, segSuffix: '-seg' });
    expect(c!.images).toEqual({ t1: join(alt, 'case1', 'case1-t1n.nii'), t1ce: join(alt, 'case1', 'case1-t1c.nii.gz') });
    expect(c!.missing).toEqual([]);
    expect(c!.seg).toBeUndefined();
  });
});

describe('BratsDataset', () => {
  it('loads a case cropped and normalised, with meta to paste predictions back', async () => {
    const ds = new BratsDataset({ root: join(root, 'data'), cacheDir: join(root, 'cache-a') });
    expect(ds.inChannels).toBe(4);
    expect(ds.targets.channels).toEqual(['WT', 'TC', 'ET']);
    expect(await ds.caseIds()).toEqual(ids);
    const c = await ds.loadCase(ids[0]!);
    const [d, h, w, C] = c.shape;
    expect(C).toBe(4);
    expect(c.image.length).toBe(d * h * w * 4);
    expect(c.label!.length).toBe(d * h * w);
    expect(c.meta.originalShape).toEqual([16, 20, 24]);
    expect(c.meta.cropBox.end.map((e, i) => e - c.meta.cropBox.start[i]!)).toEqual([d, h, w]);
    expect(c.meta.modalities).toEqual(['t1', 't1ce', 't2', 'flair']);
    expect(c.meta.affine).toEqual([[-1, 0, 0, 0], [0, -1, 0, 19], [0, 0, 1, 0], [0, 0, 0, 1]]);
    expect(c.meta.spacing).toEqual([1, 1, 1]);
    expect(Object.keys(c.meta.files).sort()).toEqual(['flair', 'seg', 't1', 't1ce', 't2']);
    // the crop is the brain's bounding box: every face of the box touches the brain
    const t1 = await readNifti(c.meta.files.t1!);
    const { start, end } = c.meta.cropBox;
    let inBox = 0, total = 0;
    for (let i = 0; i < t1.data.length; i++) {
      if (t1.data[i] === 0) continue;
      total++;
      const x = i % 24, y = Math.floor(i / 24) % 20, z = Math.floor(i / 480);
      if (z >= start[0] && z < end[0] && y >= start[1] && y < end[1] && x >= start[2] && x < end[2]) inBox++;
    }
    expect(inBox).toBe(total);
    // z-score: each channel has mean ~0 and std ~1 inside the brain
    for (let ch = 0; ch < 4; ch++) {
      let s = 0, s2 = 0, n = 0;
      for (let i = ch; i < c.image.length; i += 4) if (c.image[i] !== 0) { s += c.image[i]!; s2 += c.image[i]! ** 2; n++; }
      expect(Math.abs(s / n)).toBeLessThan(0.05);
      expect(Math.sqrt(s2 / n - (s / n) ** 2)).toBeCloseTo(1, 1);
    }
  });

  it('caches preprocessed cases, reuses them while sources are unchanged, never touches the inputs', async () => {
    const data = join(root, 'data');
    const before = await Promise.all(ids.map(async (id) => (await stat(join(data, id, `${id}_t1.nii.gz`))).mtimeMs));
    const ds = new BratsDataset({ root: data });
    const a = await ds.loadCase(ids[1]!);
    const cacheFile = join(data, '.voxseg-cache', `${ids[1]}.vxcase`);
    const written = (await stat(cacheFile)).mtimeMs;
    const b = await new BratsDataset({ root: data }).loadCase(ids[1]!);
    expect((await stat(cacheFile)).mtimeMs).toBe(written); // hit: not rewritten
    expect(Buffer.from(b.image.buffer).equals(Buffer.from(a.image.buffer))).toBe(true);
    expect(b.meta).toEqual(JSON.parse(JSON.stringify(a.meta)));
    expect(await Promise.all(ids.map(async (id) => (await stat(join(data, id, `${id}_t1.nii.gz`))).mtimeMs))).toEqual(before);
    // no cache at all
    const nc = new BratsDataset({ root: data, cacheDir: false });
    expect(Array.from((await nc.loadCase(ids[1]!)).image)).toEqual(Array.from(a.image));
  });

  it('a case stored with a singleton 4th dim (x, y, z, 1) loads as 3-D, and its prediction keeps that dim', async () => {
    const id = ids[0]!;
    const dir = join(root, 'singleton', id);
    await mkdir(dir, { recursive: true });
    for (const role of ['t1', 't1ce', 't2', 'flair', 'seg']) {
      const v = await readNifti(join(root, 'data', id, `${id}_${role}.nii.gz`), { as: 'native' });
      const reference = { ...v.header, dim: [4, 24, 20, 16, 1, 1, 1, 1], pixdim: [...v.header.pixdim.slice(0, 4), 2.5, 0, 0, 0] };
      await writeNifti(join(dir, `${id}_${role}.nii.gz`), v.data, { reference, datatype: role === 'seg' ? 'uint8' : 'int16' });
    }
    const cacheDir = join(root, 'cache-singleton');
    const fresh = await new BratsDataset({ root: join(root, 'singleton'), cacheDir }).loadCase(id);
    const cached = await new BratsDataset({ root: join(root, 'singleton'), cacheDir }).loadCase(id);
    const plain = await new BratsDataset({ root: join(root, 'data'), cacheDir: false }).loadCase(id);
    expect(fresh.meta.originalShape).toEqual([16, 20, 24]);
    expect(Array.from(fresh.image)).toEqual(Array.from(plain.image));
    for (const c of [fresh, cached]) {
      const out = join(root, 'singleton', `pred-${c === fresh ? 'fresh' : 'cached'}.nii.gz`);
      await writeNifti(out, new Uint8Array(24 * 20 * 16), { reference: c.meta.header as NiftiHeader, datatype: 'uint8' });
      const back = await readNifti(out, { as: 'native' });
      expect(back.header.dim).toEqual([4, 24, 20, 16, 1, 1, 1, 1]);
      expect(back.header.pixdim[4]).toBe(2.5);
      expect(back.affine).toEqual(plain.meta.affine);
    }
  });

  it('preprocessAll warms the cache with progress', async () => {
    const cacheDir = join(root, 'cache-warm');
    const seen: string[] = [];
    await new BratsDataset({ root: join(root, 'data'), cacheDir }).preprocessAll(undefined, (d, t, id) => seen.push(`${d}/${t} ${id}`));
    expect(seen).toEqual(ids.map((id, k) => `${k + 1}/3 ${id}`));
    expect((await readdir(cacheDir)).sort()).toEqual(ids.map((id) => `${id}.vxcase`));
  });

  it('loads unlabelled cases and cases with other file names', async () => {
    const other = join(root, 'other');
    await synthesizeDataset(other, 1, 2, { shape: SHAPE, idPrefix: 'P' });
    const dir = join(other, 'P00000');
    for (const [from, to] of [['t1', '-t1n'], ['t1ce', '-t1c'], ['t2', '-t2w'], ['flair', '-t2f']]) {
      await rename(join(dir, `P00000_${from}.nii.gz`), join(dir, `P00000${to}.nii.gz`));
    }
    await rm(join(dir, 'P00000_seg.nii.gz'));
    const ds = new BratsDataset({ root: other, cacheDir: false, suffixes: { t1: '-t1n', t1ce: '-t1c', t2: '-t2w', flair: '-t2f' } });
    const c = await ds.loadCase('P00000');
    expect(c.label).toBeUndefined();
    expect(c.shape[3]).toBe(4);
    expect(c.meta.files.t2).toBe(join(dir, 'P00000-t2w.nii.gz'));
    expect(c.meta.files.seg).toBeUndefined();
    const two = new BratsDataset({ root: other, cacheDir: false, modalities: ['t1ce', 'flair'], suffixes: { t1ce: '-t1c', flair: '-t2f' } });
    expect(two.inChannels).toBe(2);
    expect((await two.loadCase('P00000')).shape[3]).toBe(2);
  });

  it('keeps working uncached, with one warning, when the cache cannot be written', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'a file where the cache folder should go');
    const warnings: string[] = [];
    const ds = new BratsDataset({ root: join(root, 'data'), cacheDir: join(blocker, 'cache'), onWarning: (m) => warnings.push(m) });
    await ds.loadCase(ids[0]!);
    await ds.loadCase(ids[1]!);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not cached: .*blocker\/cache: cannot create the cache folder/);
  });

  it('is registered by the factory and rejects unknown ids and a missing root', async () => {
    const exp = new Experiment();
    exp.registry('dataset').register(brats2021DatasetFactory);
    const ds = exp.get('dataset', 'brats2021').create({ root: join(root, 'data'), cacheDir: false }, exp);
    await expect(ds.loadCase('nope')).rejects.toThrow(/case nope: not found in/);
    expect(() => brats2021DatasetFactory.create({} as never, exp)).toThrow(/option "root"/);
  });
});

describe('invalid cases', () => {
  let bad: string;
  beforeAll(async () => {
    bad = join(root, 'bad');
    await synthesizeDataset(bad, 3, 5, { shape: SHAPE });
    // case 1: flair missing
    await rename(join(bad, 'BraTS2021_00001', 'BraTS2021_00001_flair.nii.gz'), join(root, 'moved.nii.gz'));
  });

  it('loadCase rejects with the case, the file and what is wrong', async () => {
    const ds = new BratsDataset({ root: bad, cacheDir: false });
    await expect(ds.loadCase('BraTS2021_00001')).rejects.toThrow(/^case BraTS2021_00001: .*BraTS2021_00001_flair\.nii\.gz: expected the flair file, found no such file$/);
    await expect((await ds.loadCase('BraTS2021_00000')).shape[3]).toBe(4);
  });

  it('training refuses invalid cases unless told to skip them, and says which it skipped', async () => {
    const strict = new BratsDataset({ root: bad, cacheDir: join(root, 'cache-bad') });
    await expect(strict.selectCases()).rejects.toThrow(/1 of 3 cases in .* are invalid \(first: case BraTS2021_00001: .*flair\.nii\.gz: expected the flair file, found no such file\); run "voxseg check --data/);
    expect(await strict.caseIds()).toHaveLength(3); // listing is not validation
    const progress: number[] = [];
    const lenient = new BratsDataset({ root: bad, cacheDir: join(root, 'cache-bad'), skipInvalid: true, onProgress: (_p, d) => progress.push(d) });
    expect(await lenient.caseIds()).toEqual(['BraTS2021_00000', 'BraTS2021_00002']);
    expect(await lenient.skippedCases()).toEqual([
      { id: 'BraTS2021_00001', reasons: [expect.stringMatching(/flair\.nii\.gz: expected the flair file, found no such file/)] },
    ]);
    expect(progress).toEqual([1, 2, 3]);
  });
});

describe('unreadable files', () => {
  it.skipIf(process.getuid?.() === 0)('name the file when permissions forbid reading', async () => {
    const dir = join(root, 'perm');
    await synthesizeDataset(dir, 1, 1, { shape: SHAPE });
    const f = join(dir, 'BraTS2021_00000', 'BraTS2021_00000_t2.nii.gz');
    await chmod(f, 0o000);
    await expect(new BratsDataset({ root: dir, cacheDir: false }).loadCase('BraTS2021_00000')).rejects.toThrow(/t2\.nii\.gz: expected a readable 3-D NIfTI-1 image, found cannot read \(EACCES/);
  });
  it('a directory where a file should be', async () => {
    const dir = join(root, 'dirfile');
    await synthesizeDataset(dir, 1, 1, { shape: SHAPE });
    const f = join(dir, 'BraTS2021_00000', 'BraTS2021_00000_t2.nii.gz');
    await rm(f);
    await mkdir(f);
    await expect(new BratsDataset({ root: dir, cacheDir: false }).loadCase('BraTS2021_00000')).rejects.toThrow(/t2\.nii\.gz: expected a readable 3-D NIfTI-1 image, found cannot read \(EISDIR/);
    expect((await readdir(dir)).sort()).toEqual(['BraTS2021_00000']);
    expect(await readFile(join(dir, 'BraTS2021_00000', 'BraTS2021_00000_t1.nii.gz'))).toBeTruthy();
  });
});
