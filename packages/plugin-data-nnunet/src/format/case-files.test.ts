import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelFileName, listNnunetCases, parseChannelFileName } from './case-files.js';
import { isNnunetDataset, isNnunetImageFolder } from './detect.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'voxseg-nnunet-files-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A folder holding empty files of these names (listing looks at names only). */
async function folder(name: string, files: string[]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await Promise.all(files.map((f) => writeFile(join(dir, f), '')));
  return dir;
}

describe('nnU-Net file names', () => {
  it('channel files are <case>_XXXX<ending>, the case id may itself contain underscores and digits', () => {
    expect(channelFileName('BraTS2021_00012', 3, '.nii.gz')).toBe('BraTS2021_00012_0003.nii.gz');
    expect(parseChannelFileName('BraTS2021_00012_0003.nii.gz')).toEqual({ id: 'BraTS2021_00012', channel: 3, fileEnding: '.nii.gz' });
    expect(parseChannelFileName('la_003_0000.nii')).toEqual({ id: 'la_003', channel: 0, fileEnding: '.nii' });
    expect(parseChannelFileName('la_003_0000.nii', '.nii.gz')).toBeNull();
    expect(parseChannelFileName('la_003.nii.gz')).toBeNull(); // a label file
    expect(parseChannelFileName('la_003_000.nii.gz')).toBeNull(); // 3 digits
    expect(parseChannelFileName('_0000.nii.gz')).toBeNull(); // no id
  });
});

describe('listNnunetCases', () => {
  it('groups a flat folder into cases (id -> channel files), sorted, ignoring hidden and other files', async () => {
    const dir = await folder('flat', [
      'b_02_0001.nii.gz', 'b_02_0000.nii.gz', 'a_01_0000.nii.gz', 'a_01_0001.nii.gz', '.a_01_0002.nii.gz', 'notes.txt', 'a_01.nii.gz',
    ]);
    expect(await listNnunetCases(dir)).toEqual([
      { id: 'a_01', images: [join(dir, 'a_01_0000.nii.gz'), join(dir, 'a_01_0001.nii.gz')] },
      { id: 'b_02', images: [join(dir, 'b_02_0000.nii.gz'), join(dir, 'b_02_0001.nii.gz')] },
    ]);
    expect(await listNnunetCases(dir, { channels: 2, fileEnding: '.nii.gz' })).toHaveLength(2);
  });

  it('a missing channel file, a channel too many, a wrong ending and a mixed folder are one-line errors naming the file', async () => {
    const dir = await folder('missing', ['c1_0000.nii.gz', 'c1_0001.nii.gz', 'c2_0000.nii.gz']);
    await expect(listNnunetCases(dir, { channels: 2, channelNames: ['T1', 'T2'] })).rejects.toThrow(
      `case c2: ${join(dir, 'c2_0001.nii.gz')}: expected the file of channel 1 (T2), found no such file`,
    );
    // Found from the folder: the highest channel seen is what every case needs.
    await expect(listNnunetCases(dir)).rejects.toThrow(/case c2: .*c2_0001\.nii\.gz: expected the file of channel 1, found no such file/);
    await expect(listNnunetCases(dir, { channels: 1 })).rejects.toThrow(
      `case c1: ${join(dir, 'c1_0001.nii.gz')}: channel 1 is beyond the 1 channel expected (channel_names in dataset.json)`,
    );
    await expect(listNnunetCases(dir, { fileEnding: '.nii' })).rejects.toThrow(
      `${dir}: no nnU-Net image files found (expected <case>_0000.nii, <case>_0001.nii, ...) (found 2 ending in ".nii.gz": does "file_ending" in dataset.json match the files?)`,
    );
    const mixed = await folder('mixed', ['a_0000.nii.gz', 'b_0000.nii']);
    await expect(listNnunetCases(mixed)).rejects.toThrow(`${mixed}: mixes file endings ".nii.gz" and ".nii"; an nnU-Net folder uses one`);
    const empty = await folder('empty', ['x.txt']);
    await expect(listNnunetCases(empty)).rejects.toThrow(`${empty}: no nnU-Net image files found (expected <case>_0000.nii.gz, <case>_0001.nii.gz, ...)`);
    await expect(listNnunetCases(join(root, 'absent'))).rejects.toThrow(`${join(root, 'absent')}: cannot read the images folder (ENOENT: no such file)`);
    await expect(listNnunetCases(join(empty, 'x.txt'))).rejects.toThrow(/x\.txt: expected a folder of nnU-Net-named images/);
  });
});

describe('detection', () => {
  it('a dataset.json marks an nnU-Net dataset; <case>_0000 files mark a flat image folder; BraTS folders are neither', async () => {
    const ds = await folder('Dataset001_X', ['dataset.json']);
    const flat = await folder('imagesTs', ['p_0000.nii.gz']);
    const brats = await folder('brats/BraTS2021_00000', ['BraTS2021_00000_t1.nii.gz']);
    expect(await isNnunetDataset(ds)).toBe(true);
    expect(await isNnunetDataset(flat)).toBe(false);
    expect(await isNnunetDataset(join(root, 'brats'))).toBe(false);
    expect(await isNnunetDataset(join(root, 'absent'))).toBe(false);
    expect(await isNnunetImageFolder(flat)).toBe(true);
    expect(await isNnunetImageFolder(join(root, 'brats'))).toBe(false);
    expect(await isNnunetImageFolder(brats)).toBe(false);
    expect(await isNnunetImageFolder(join(root, 'absent'))).toBe(false);
    const dirNotFile = await folder('Dataset002_Y/dataset.json', []);
    expect(await isNnunetDataset(join(dirNotFile, '..'))).toBe(false);
  });
});
