import { DataError } from '@voxseg/plugin-data-brats';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatasetJson, readDatasetJson, readDatasetJsonSync } from './dataset-json.js';

// dataset.json of nnU-Net's Dataset137_BraTS21.py (generate_dataset_json output) and of the
// documentation's Dataset005_Prostate example (documentation/dataset_format.md).
const BRATS137 = {
  channel_names: { 0: 'T1', 1: 'T1ce', 2: 'T2', 3: 'Flair' },
  labels: { background: 0, 'whole tumor': [1, 2, 3], 'tumor core': [2, 3], 'enhancing tumor': [3] },
  numTraining: 1251,
  file_ending: '.nii.gz',
  regions_class_order: [1, 2, 3],
  license: 'see https://www.synapse.org/#!Synapse:syn25829067/wiki/610863',
};
const PROSTATE = { channel_names: { 0: 'T2', 1: 'ADC' }, labels: { background: 0, PZ: 1, TZ: 2 }, numTraining: 32, file_ending: '.nii.gz' };
const F = '/data/Dataset137_BraTS2021/dataset.json';
const parse = (json: unknown) => parseDatasetJson(json, F);
const without = (o: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
/** The one-line message of what `f` throws. */
const message = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return (err as Error).message;
  }
  throw new Error('expected a DataError');
};

describe('parseDatasetJson', () => {
  it('reads Dataset137_BraTS2021: 4 channels, 3 regions in file order, regions_class_order', () => {
    const d = parse(BRATS137);
    expect(d.channelNames).toEqual(['T1', 'T1ce', 'T2', 'Flair']);
    expect(d.labels).toEqual([['background', 0], ['whole tumor', [1, 2, 3]], ['tumor core', [2, 3]], ['enhancing tumor', [3]]]);
    expect(d.hasRegions).toBe(true);
    expect(d.regionsClassOrder).toEqual([1, 2, 3]);
    expect(d.allLabels).toEqual([0, 1, 2, 3]);
    expect(d.fileEnding).toBe('.nii.gz');
    expect(d.numTraining).toBe(1251);
    expect(d.raw.license).toBe(BRATS137.license);
  });

  it('reads plain labels (Dataset005_Prostate): no regions, regions_class_order not needed', () => {
    const d = parse(PROSTATE);
    expect(d.hasRegions).toBe(false);
    expect(d.regionsClassOrder).toBeUndefined();
    expect(d.allLabels).toEqual([0, 1, 2]);
    // A list of one value is a plain label too (nnU-Net: regions need a list of more than one).
    expect(parse({ ...PROSTATE, labels: { background: 0, PZ: [1], TZ: 2 } }).hasRegions).toBe(false);
  });

  it('names the file and the key of every problem, in one line', () => {
    const cases: [unknown, RegExp][] = [
      [[], /dataset\.json: expected a JSON object, found an array$/],
      [without(PROSTATE, 'channel_names'), /dataset\.json: "channel_names" is missing \(expected \{"0": "<name of the _0000 files>", \.\.\.\}\)$/],
      [{ ...without(PROSTATE, 'channel_names'), modality: { 0: 'T2' } }, /"channel_names" is missing .*nnU-Net v1 dataset\.json with "modality": convert it with nnUNetv2_convert_old_nnUNet_dataset\)$/],
      [{ ...PROSTATE, channel_names: { 0: 'T2', 2: 'ADC' } }, /"channel_names" must have keys "0".."1" \(one per _XXXX file suffix\), found keys "0", "2"$/],
      [{ ...PROSTATE, channel_names: { 0: '' } }, /"channel_names\.0" must be a non-empty string, found ""$/],
      [without(PROSTATE, 'labels'), /"labels" is missing/],
      [{ ...PROSTATE, labels: { PZ: 1, TZ: 2 } }, /"labels" has no "background" entry \(nnU-Net requires "background": 0\)$/],
      [{ ...PROSTATE, labels: { background: 1, PZ: 2 } }, /"labels\.background" must be 0, found 1$/],
      [{ ...PROSTATE, labels: { background: 0, PZ: 'one' } }, /"labels\.PZ" must be an integer in \[0, 255\] or a non-empty list of such integers, found "one"$/],
      [{ ...PROSTATE, labels: { background: 0, necrosis: 1, edema: 2, enhancing: 4 } }, /"labels" values must be consecutive integers from 0 \(nnU-Net's rule\), found 0, 1, 2, 4$/],
      [{ ...PROSTATE, labels: { background: 0, PZ: 1, TZ: 1 } }, /"labels" gives the value 1 to more than one name$/],
      [{ ...PROSTATE, labels: { background: 0, PZ: 1, ignore: 2 } }, /"labels\.ignore" is nnU-Net's ignore label/],
      [without(BRATS137, 'regions_class_order'), /"regions_class_order" is missing: "labels" defines regions, so one label per region is needed \(3 regions: whole tumor, tumor core, enhancing tumor\)$/],
      [{ ...BRATS137, regions_class_order: [1, 2] }, /"regions_class_order" has 2 entries, expected one per foreground region \(3: whole tumor, tumor core, enhancing tumor\)$/],
      [{ ...BRATS137, regions_class_order: [1, 2, 4] }, /"regions_class_order" contains 4, which is not a label value of "labels" \(0, 1, 2, 3\)$/],
      [without(PROSTATE, 'file_ending'), /"file_ending" is missing \(expected "\.nii\.gz"\)$/],
      [{ ...PROSTATE, file_ending: '.png' }, /"file_ending" is "\.png"; voxseg reads NIfTI only: "\.nii\.gz" or "\.nii"$/],
      [{ ...PROSTATE, file_ending: 'nii.gz' }, /"file_ending" is "nii\.gz"/],
      [without(PROSTATE, 'numTraining'), /"numTraining" is missing/],
      [{ ...PROSTATE, numTraining: -1 }, /"numTraining" must be a non-negative integer, found -1$/],
    ];
    for (const [json, re] of cases) {
      const m = message(() => parse(json));
      expect(m, JSON.stringify(json)).toMatch(re);
      expect(m.startsWith(`${F}: `)).toBe(true);
      expect(m).not.toContain('\n');
    }
  });
});

describe('readDatasetJson', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'voxseg-nnunet-json-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads the file (async and sync alike) and says what is wrong with it', async () => {
    await writeFile(join(root, 'dataset.json'), JSON.stringify(BRATS137, null, 2));
    expect(await readDatasetJson(root)).toEqual(readDatasetJsonSync(root));
    expect((await readDatasetJson(root)).channelNames).toHaveLength(4);
    await writeFile(join(root, 'dataset.json'), '{"channel_names": ');
    await expect(readDatasetJson(root)).rejects.toThrow(new RegExp(`^${join(root, 'dataset.json')}: not valid JSON \\(`));
    const missing = join(root, 'nope');
    await expect(readDatasetJson(missing)).rejects.toThrow(`${join(missing, 'dataset.json')}: cannot read the nnU-Net dataset description (ENOENT: no such file)`);
    expect(() => readDatasetJsonSync(missing)).toThrow(`${join(missing, 'dataset.json')}: cannot read the nnU-Net dataset description (ENOENT: no such file)`);
  });
});
