import { Experiment, createExperiment, pasteIntoGrid } from '@voxseg/core';
import { BratsDataset, createNiftiHeader, readNifti, synthesizeDataset, writeNifti } from '@voxseg/plugin-data-brats';
import { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { nnunetPlugin } from '../plugin.js';
import { bratsToNnunetLabels, synthesizeNnunetDataset } from '../synthetic/synthesize-nnunet-dataset.js';
import { detectNnunetFolder, nnunetFolderKind } from './folders.js';
import { NnunetDataset, nnunetDatasetFactory } from './nnunet-dataset.js';

// Tiny volumes: [nx, ny, nz] = 24x24x16.
const SHAPE: [number, number, number] = [24, 24, 16];
const SEED = 21;
let root: string;
let nn: string;
let ids: { train: string[]; test: string[] };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'voxseg-nnunet-ds-'));
  nn = join(root, 'Dataset137_BraTS2021');
  ids = await synthesizeNnunetDataset(nn, 3, SEED, { shape: SHAPE, testCases: 1 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the synthetic dataset to break. */
async function copy(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(nn, dir, { recursive: true, filter: (src) => !src.includes('.voxseg-cache') });
  return dir;
}

describe('synthesizeNnunetDataset (voxseg synth --layout nnunet)', () => {
  it('writes imagesTr/labelsTr/imagesTs(+labelsTs) and the Dataset137_BraTS2021 dataset.json', async () => {
    expect(ids).toEqual({ train: ['BraTS2021_00000', 'BraTS2021_00001', 'BraTS2021_00002'], test: ['BraTS2021_00003'] });
    expect((await readdir(nn)).sort()).toEqual(['dataset.json', 'imagesTr', 'imagesTs', 'labelsTr', 'labelsTs']);
    expect((await readdir(join(nn, 'imagesTr'))).sort()).toEqual(
      ids.train.flatMap((id) => ['0000', '0001', '0002', '0003'].map((c) => `${id}_${c}.nii.gz`)),
    );
    expect((await readdir(join(nn, 'labelsTr'))).sort()).toEqual(ids.train.map((id) => `${id}.nii.gz`));
    expect(await readdir(join(nn, 'imagesTs'))).toHaveLength(4);
    const json = JSON.parse(await readFile(join(nn, 'dataset.json'), 'utf8'));
    expect(json).toMatchObject({
      channel_names: { 0: 'T1', 1: 'T1ce', 2: 'T2', 3: 'Flair' },
      labels: { background: 0, 'whole tumor': [1, 2, 3], 'tumor core': [2, 3], 'enhancing tumor': [3] },
      numTraining: 3,
      file_ending: '.nii.gz',
      regions_class_order: [1, 2, 3],
    });
    // Region order is the key order of the file (nnU-Net: never sort these keys).
    expect(Object.keys(json.labels)).toEqual(['background', 'whole tumor', 'tumor core', 'enhancing tumor']);
    await expect(synthesizeNnunetDataset(nn, 1, 1, { shape: SHAPE })).rejects.toThrow(
      `${join(nn, 'dataset.json')}: already exists; pass --force (option force: true) to overwrite the dataset`,
    );
  });

  it('round trip: the same cases as the BraTS layout of the same seed, labels converted as Dataset137_BraTS21.py does', async () => {
    const bratsDir = join(root, 'brats');
    await synthesizeDataset(bratsDir, 3, SEED, { shape: SHAPE });
    const brats = new BratsDataset({ root: bratsDir, cacheDir: false });
    const ds = new NnunetDataset({ root: nn, cacheDir: false });
    expect(await ds.caseIds()).toEqual(await brats.caseIds());
    for (const id of ids.train) {
      const a = await ds.loadCase(id);
      const b = await brats.loadCase(id);
      expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
      expect(a.shape).toEqual(b.shape);
      expect(a.meta.cropBox).toEqual(b.meta.cropBox);
      expect(a.meta.affine).toEqual(b.meta.affine);
      expect(a.label).toEqual(bratsToNnunetLabels(b.label!));
      const [d, h, w] = a.shape;
      // Same WT/TC/ET targets through each plugin's own encoding.
      expect(ds.targets.encode(a.label!, [d, h, w])).toEqual(brats.targets.encode(b.label!, [d, h, w]));
    }
    // The raw label files hold nnU-Net's 0..3 (every value in some case), never BraTS's 4.
    const values = new Set<number>();
    for (const id of ids.train) for (const v of (await readNifti(join(nn, 'labelsTr', `${id}.nii.gz`), { as: 'native' })).data) values.add(v);
    expect([...values].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('NnunetDataset', () => {
  it('loads a training case cropped and z-scored, with channel names, files and geometry', async () => {
    const ds = new NnunetDataset({ root: nn, cacheDir: join(root, 'cache-a') });
    expect(ds.name).toBe('nnunet');
    expect(ds.inChannels).toBe(4);
    expect(ds.targets.channels).toEqual(['whole tumor', 'tumor core', 'enhancing tumor']);
    expect(await ds.caseIds()).toEqual(ids.train);
    const c = await ds.loadCase(ids.train[1]!);
    expect(c.meta.modalities).toEqual(['T1', 'T1ce', 'T2', 'Flair']);
    expect(c.meta.files).toEqual({
      T1: join(nn, 'imagesTr', `${ids.train[1]}_0000.nii.gz`),
      T1ce: join(nn, 'imagesTr', `${ids.train[1]}_0001.nii.gz`),
      T2: join(nn, 'imagesTr', `${ids.train[1]}_0002.nii.gz`),
      Flair: join(nn, 'imagesTr', `${ids.train[1]}_0003.nii.gz`),
      seg: join(nn, 'labelsTr', `${ids.train[1]}.nii.gz`),
    });
    expect(c.meta.originalShape).toEqual([16, 24, 24]);
    const [d, h, w, C] = c.shape;
    expect(C).toBe(4);
    expect(c.label).toHaveLength(d * h * w);
    for (let ch = 0; ch < 4; ch++) {
      let s = 0, s2 = 0, n = 0;
      for (let i = ch; i < c.image.length; i += 4) if (c.image[i] !== 0) { s += c.image[i]!; s2 += c.image[i]! ** 2; n++; }
      expect(Math.abs(s / n)).toBeLessThan(0.05);
      expect(Math.sqrt(s2 / n - (s / n) ** 2)).toBeCloseTo(1, 1);
    }
    // Cached: a second dataset reads the cache file back bit-identically, inputs untouched.
    const mtime = (await stat(c.meta.files.T1!)).mtimeMs;
    const again = await new NnunetDataset({ root: nn, cacheDir: join(root, 'cache-a') }).loadCase(ids.train[1]!);
    expect((await readdir(join(root, 'cache-a'))).sort()).toEqual([`${ids.train[1]}.vxcase`]);
    expect(Buffer.from(again.image.buffer).equals(Buffer.from(c.image.buffer))).toBe(true);
    expect(again.label).toEqual(c.label);
    expect((await stat(c.meta.files.T1!)).mtimeMs).toBe(mtime);
  });

  it('reads imagesTs (labelsTs when present) and any flat folder of nnU-Net-named images', async () => {
    const test = new NnunetDataset({ root: nn, subset: 'test', cacheDir: false });
    expect(await test.caseIds()).toEqual(ids.test);
    expect((await test.loadCase(ids.test[0]!)).label).toBeDefined();
    const flat = join(root, 'flat');
    await cp(join(nn, 'imagesTs'), flat, { recursive: true });
    const pred = new NnunetDataset({ root: nn, images: flat });
    expect(await pred.caseIds()).toEqual(ids.test);
    const c = await pred.loadCase(ids.test[0]!);
    expect(c.label).toBeUndefined();
    expect(c.meta.files.T1).toBe(join(flat, `${ids.test[0]}_0000.nii.gz`));
    expect(await readdir(flat)).not.toContain('.voxseg-cache'); // no cache written into an input folder by default
    const scored = new NnunetDataset({ root: nn, images: flat, labels: join(nn, 'labelsTs'), cacheDir: false });
    expect((await scored.loadCase(ids.test[0]!)).label).toEqual((await test.loadCase(ids.test[0]!)).label);
    // Without the dataset folder: a copy of its dataset.json (as a trained run keeps) is enough.
    const kept = join(root, 'run-dataset.json');
    await cp(join(nn, 'dataset.json'), kept);
    const alone = await NnunetDataset.open({ images: flat, datasetJson: kept });
    expect(alone.jsonFile).toBe(kept);
    expect(alone.targets.channels).toEqual(test.targets.channels);
    expect(Buffer.from((await alone.loadCase(ids.test[0]!)).image.buffer).equals(Buffer.from(c.image.buffer))).toBe(true);
    expect(() => new NnunetDataset({ images: flat })).toThrow('nnunet dataset: option "root" (the nnU-Net dataset folder, holding dataset.json) is required, or both "images" and "datasetJson"');
  });

  it('a flat image folder or a label folder as root: dataset.json from the parent (predict --input, evaluate --gt)', async () => {
    expect(nnunetFolderKind(nn)).toBe('dataset');
    expect(nnunetFolderKind(join(nn, 'imagesTs'))).toBe('images');
    expect(nnunetFolderKind(join(nn, 'labelsTs'))).toBe('labels');
    expect(nnunetFolderKind(join(root, 'absent'))).toBeNull();
    expect([nn, join(nn, 'imagesTs'), join(nn, 'labelsTr'), join(root, 'absent'), join(nn, 'dataset.json')].map(detectNnunetFolder)).toEqual([true, true, true, false, false]);
    const input = new NnunetDataset({ root: join(nn, 'imagesTs'), readOnly: true });
    expect(input.jsonFile).toBe(join(nn, 'dataset.json'));
    expect(await input.caseIds()).toEqual(ids.test);
    const c = await input.loadCase(ids.test[0]!);
    expect(c.meta.files.seg).toBe(join(nn, 'labelsTs', `${ids.test[0]}.nii.gz`));
    expect(await readdir(join(nn, 'imagesTs'))).not.toContain('.voxseg-cache');
    // Predictions are written as nnU-Net writes them: <id><file_ending>, the images' geometry.
    const out = join(root, 'pred-out');
    await mkdir(out);
    const [d, h, w] = c.shape;
    const labels = pasteIntoGrid(c.label!, c.meta.cropBox, c.meta.originalShape);
    const file = await input.writePrediction(c.meta, labels, out);
    expect(file).toBe(join(out, `${ids.test[0]}.nii.gz`));
    const gt = new NnunetDataset({ root: join(nn, 'labelsTs'), readOnly: true });
    expect(await gt.caseIds()).toEqual(ids.test);
    const ref = await gt.referenceFile(ids.test[0]!);
    expect(ref).toBe(join(nn, 'labelsTs', `${ids.test[0]}.nii.gz`));
    const [a, b] = await Promise.all([gt.readLabelMap(file), gt.readLabelMap(ref!)]);
    expect(a).toEqual(b);
    expect(a.shape).toEqual([16, 24, 24]);
    expect(a.spacing).toEqual([1, 1, 1]);
    expect(d * h * w).toBe(c.label!.length);
    await expect(gt.loadCase(ids.test[0]!)).rejects.toThrow(`case ${ids.test[0]}: ${join(nn, 'labelsTs')} holds reference labels only, no images to load`);
    // The dataset folder finds training and test references alike.
    const whole = new NnunetDataset({ root: nn, readOnly: true });
    expect(await whole.referenceFile(ids.train[0]!)).toBe(join(nn, 'labelsTr', `${ids.train[0]}.nii.gz`));
    expect(await whole.referenceFile(ids.test[0]!)).toBe(join(nn, 'labelsTs', `${ids.test[0]}.nii.gz`));
    expect(await whole.referenceFile('nope')).toBeUndefined();
    // A flat folder with no dataset.json anywhere near needs one named.
    const lonely = join(root, 'lonely', 'in');
    await cp(join(nn, 'imagesTs'), lonely, { recursive: true });
    expect(() => new NnunetDataset({ root: lonely })).toThrow(
      `${lonely}: a folder of nnU-Net-named images without a dataset.json (none in it or in ${join(root, 'lonely')}); give the dataset's dataset.json (option "datasetJson")`,
    );
    expect(await new NnunetDataset({ root: lonely, datasetJson: join(nn, 'dataset.json') }).caseIds()).toEqual(ids.test);
    // ... or a trained run that kept a copy (keepInRun); the folder's own dataset.json comes first.
    const runDir = join(root, 'a-run');
    await mkdir(runDir);
    expect(() => new NnunetDataset({ root: lonely, run: runDir })).toThrow(
      `${lonely}: a folder of nnU-Net-named images without a dataset.json (none in it, in ${join(root, 'lonely')} or in the run ${runDir}); give the dataset's dataset.json (option "datasetJson")`,
    );
    await new NnunetDataset({ root: nn, cacheDir: false }).keepInRun(runDir);
    expect(await readFile(join(runDir, 'dataset.json'), 'utf8')).toBe(await readFile(join(nn, 'dataset.json'), 'utf8'));
    expect((await readdir(runDir)).sort()).toEqual(['dataset.json']); // atomic: no temporary file left
    const fromRun = new NnunetDataset({ root: lonely, run: runDir, readOnly: true });
    expect(fromRun.jsonFile).toBe(join(runDir, 'dataset.json'));
    expect(await fromRun.caseIds()).toEqual(ids.test);
    expect(new NnunetDataset({ root: join(nn, 'imagesTs'), run: runDir }).jsonFile).toBe(join(nn, 'dataset.json'));
  });

  it('checkCases: valid labelled, unlabelled and invalid cases with their reasons', async () => {
    const ok = await new NnunetDataset({ root: nn, cacheDir: false }).checkCases();
    expect(ok).toEqual({ valid: ids.train, skipped: [], unlabelled: [] });
    const flat = join(root, 'flat-check');
    await cp(join(nn, 'imagesTs'), flat, { recursive: true });
    expect(await new NnunetDataset({ root: nn, images: flat }).checkCases()).toEqual({ valid: [], skipped: [], unlabelled: ids.test });
    const dir = await copy('check-bad');
    const file = join(dir, 'labelsTr', `${ids.train[1]}.nii.gz`);
    const seg = await readNifti(file, { as: 'native' });
    const data = Uint8Array.from(seg.data);
    data[5] = 4;
    await writeNifti(file, data, { reference: seg.header, datatype: 'uint8' });
    const progress: string[] = [];
    const report = await new NnunetDataset({ root: dir, cacheDir: false }).checkCases({ onProgress: (d, t, id) => progress.push(`${d}/${t} ${id}`) });
    expect(report.valid).toEqual([ids.train[0], ids.train[2]]);
    expect(report.skipped).toEqual([
      { id: ids.train[1], reasons: [`case ${ids.train[1]}: ${file}: expected labels in {0, 1, 2, 3} (the values of "labels" in ${join(dir, 'dataset.json')}), found label 4 (1 voxels)`] },
    ]);
    expect(progress).toEqual(ids.train.map((id, k) => `${k + 1}/3 ${id}`));
  });

  it('is registered by the plugin as "nnunet", with the version of its package.json', async () => {
    const exp = createExperiment({ plugins: [nnunetPlugin()] });
    const ds = exp.get('dataset', 'nnunet').create({ root: nn, cacheDir: false }, exp);
    expect(ds.inChannels).toBe(4);
    expect(await ds.caseIds()).toEqual(ids.train);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(exp.pluginList()).toContainEqual({ name: '@voxseg/plugin-data-nnunet', version: pkg.version });
    exp.use(nnunetPlugin()); // twice is harmless
    expect(() => nnunetDatasetFactory.create({}, new Experiment())).toThrow(/option "root"/);
    expect(() => nnunetDatasetFactory.create({ root: join(root, 'absent') }, new Experiment())).toThrow(
      `${join(root, 'absent', 'dataset.json')}: cannot read the nnU-Net dataset description (ENOENT: no such file)`,
    );
  });
});

describe('bad nnU-Net folders: one line naming the file and what is wrong', () => {
  it('a missing channel file', async () => {
    const dir = await copy('missing-channel');
    await rm(join(dir, 'imagesTr', `${ids.train[1]}_0002.nii.gz`));
    await expect(new NnunetDataset({ root: dir, cacheDir: false }).caseIds()).rejects.toThrow(
      `case ${ids.train[1]}: ${join(dir, 'imagesTr', `${ids.train[1]}_0002.nii.gz`)}: expected the file of channel 2 (T2), found no such file`,
    );
  });

  it('a missing label file, and numTraining not matching imagesTr', async () => {
    const dir = await copy('missing-label');
    await rename(join(dir, 'labelsTr', `${ids.train[0]}.nii.gz`), join(root, 'moved.nii.gz'));
    await expect(new NnunetDataset({ root: dir, cacheDir: false }).caseIds()).rejects.toThrow(
      `case ${ids.train[0]}: ${join(dir, 'labelsTr', `${ids.train[0]}.nii.gz`)}: expected the label file of this training case, found no such file`,
    );
    const json = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'));
    await writeFile(join(dir, 'dataset.json'), JSON.stringify({ ...json, numTraining: 5 }));
    await expect(new NnunetDataset({ root: dir, cacheDir: false }).caseIds()).rejects.toThrow(
      `${join(dir, 'dataset.json')}: "numTraining" is 5, but ${join(dir, 'imagesTr')} holds 3 cases`,
    );
  });

  it('label values not declared in labels', async () => {
    const dir = await copy('bad-label');
    const file = join(dir, 'labelsTr', `${ids.train[2]}.nii.gz`);
    const seg = await readNifti(file, { as: 'native' });
    const data = Uint8Array.from(seg.data);
    data[0] = 5;
    data[1] = 5;
    await writeNifti(file, data, { reference: seg.header, datatype: 'uint8' });
    await expect(new NnunetDataset({ root: dir, cacheDir: false }).loadCase(ids.train[2]!)).rejects.toThrow(
      `case ${ids.train[2]}: ${file}: expected labels in {0, 1, 2, 3} (the values of "labels" in ${join(dir, 'dataset.json')}), found label 5 (2 voxels)`,
    );
  });

  it('a file_ending that does not match the files', async () => {
    const dir = await copy('wrong-ending');
    const json = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'));
    await writeFile(join(dir, 'dataset.json'), JSON.stringify({ ...json, file_ending: '.nii' }));
    await expect(new NnunetDataset({ root: dir, cacheDir: false }).caseIds()).rejects.toThrow(
      `${join(dir, 'imagesTr')}: no nnU-Net image files found (expected <case>_0000.nii, <case>_0001.nii, ...) (found 3 ending in ".nii.gz": does "file_ending" in dataset.json match the files?)`,
    );
    await writeFile(join(dir, 'dataset.json'), JSON.stringify({ ...json, file_ending: '.mha' }));
    expect(() => new NnunetDataset({ root: dir })).toThrow(`${join(dir, 'dataset.json')}: "file_ending" is ".mha"; voxseg reads NIfTI only: ".nii.gz" or ".nii"`);
  });

  it('images of different geometry, and a CT channel warns that nnU-Net would normalise it otherwise', async () => {
    const dir = await copy('bad-dims');
    const file = join(dir, 'imagesTr', `${ids.train[0]}_0001.nii.gz`);
    const header = createNiftiHeader({ shape: [16, 24, 20], affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] });
    await writeNifti(file, new Float32Array(16 * 24 * 20), { reference: header, datatype: 'float32' });
    const json = JSON.parse(await readFile(join(dir, 'dataset.json'), 'utf8'));
    await writeFile(join(dir, 'dataset.json'), JSON.stringify({ ...json, channel_names: { ...json.channel_names, 3: 'CT' } }));
    const warnings: string[] = [];
    const ds = new NnunetDataset({ root: dir, cacheDir: false, onWarning: (m) => warnings.push(m) });
    await expect(ds.loadCase(ids.train[0]!)).rejects.toThrow(new RegExp(`^case ${ids.train[0]}: ${file}: expected dims 24x24x16 \\(as T1\\), found dims 20x24x16`));
    expect(warnings).toEqual([`${join(dir, 'dataset.json')}: channel 3 ("CT") would get another normalisation than z-score in nnU-Net; voxseg z-scores every channel`]);
  });
});
