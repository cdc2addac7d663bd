import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { readNifti } from './read-nifti.js';
import { writeNifti } from './write-nifti.js';

// The standing corpus: files and expected values written by scripts/make_nifti_corpus.py,
// values read back by nibabel 5.0.0 (an independent reader); errors are voxseg's contract.
const CORPUS = fileURLToPath(new URL('./__fixtures__/corpus/', import.meta.url));
interface Case {
  file: string;
  note: string;
  nibabel: { reads: boolean; error?: string };
  error?: { field: string; match: string };
  expect?: {
    shape_xyz: number[]; dim: number[]; datatype: number; big_endian: boolean; affine: number[][];
    data?: number[]; data_count?: number; data_first?: number[]; data_f32le_sha256?: string;
  };
}
const cases = (JSON.parse(readFileSync(join(CORPUS, 'corpus.json'), 'utf8')) as { cases: Case[] }).cases;

describe('the NIfTI corpus', () => {
  it('lists every file in the folder, and has readable and refused cases', () => {
    const files = readdirSync(CORPUS).filter((f) => f !== 'corpus.json').sort();
    expect(cases.map((c) => c.file).sort()).toEqual(files);
    expect(cases.filter((c) => c.expect).length).toBeGreaterThanOrEqual(25);
    expect(cases.filter((c) => c.error).length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases.filter((c) => c.expect).map((c) => [c.file, c] as const))('%s: nibabel\'s values, dims and affine', async (_name, c) => {
    const e = c.expect!;
    const v = await readNifti(join(CORPUS, c.file));
    const [nx = 1, ny = 1, nz = 1] = e.shape_xyz;
    expect(v.shape).toEqual([nz, ny, nx]);
    expect(v.header.dim.slice(0, e.dim[0]! + 1)).toEqual(e.dim.slice(0, e.dim[0]! + 1));
    expect(v.header.datatype).toBe(e.datatype);
    expect(v.header.littleEndian).toBe(!e.big_endian);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(v.affine[i]![j]!).toBeCloseTo(e.affine[i]![j]!, 5);
    if (e.data) {
      expect(v.data.length).toBe(e.data.length);
      // float32 output: nibabel's float64 values rounded to float32.
      expect(Array.from(v.data)).toEqual(e.data.map((x) => Math.fround(x)));
    } else {
      expect(v.data.length).toBe(e.data_count);
      expect(Array.from(v.data.subarray(0, 8))).toEqual(e.data_first);
      const bytes = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(e.data_f32le_sha256);
    }
  });

  it.each(cases.filter((c) => c.error).map((c) => [c.file, c] as const))('%s: refused in one line naming the file and the field', async (_name, c) => {
    const file = join(CORPUS, c.file);
    const err = await readNifti(file).then(() => null, (x: unknown) => x);
    expect(err, c.note).toBeInstanceOf(DataError);
    const message = (err as DataError).message;
    expect(message.startsWith(`${file}: `)).toBe(true);
    expect(message).not.toContain('\n');
    expect(message).toContain(c.error!.match);
    if (!['gzip', 'magic'].includes(c.error!.field)) expect(message).toContain(c.error!.field);
    expect((err as DataError).file).toBe(file);
  });

  it('the issue 15 reproductions are here: vox_offset -2 and 100 (nibabel refuses both)', () => {
    for (const f of ['vox-offset-neg2.nii.gz', 'vox-offset-100.nii', 'vox-offset-100.nii.gz']) {
      const c = cases.find((x) => x.file === f)!;
      expect(c.error!.field).toBe('vox_offset');
      expect(c.nibabel.reads).toBe(false);
    }
  });
});

describe('singleton trailing dims survive a prediction write', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voxseg-corpus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([['singleton-4d.nii.gz', [4, 4, 3, 2, 1]], ['singleton-5d.nii', [5, 4, 3, 2, 1, 1]], ['dtype-int16.nii.gz', [3, 4, 3, 2]]] as const)(
    '%s: the output keeps the input dims %j',
    async (name, dim) => {
      const input = await readNifti(join(CORPUS, name));
      const out = join(dir, `pred-${name}.nii.gz`);
      await writeNifti(out, new Uint8Array(input.data.length).fill(2), { reference: input.header, datatype: 'uint8' });
      const back = await readNifti(out, { as: 'native' });
      expect(back.header.dim.slice(0, dim.length)).toEqual(dim);
      expect(back.header.dim.slice(dim.length)).toEqual(new Array(8 - dim.length).fill(1));
      expect(back.shape).toEqual(input.shape);
      expect(back.affine).toEqual(input.affine);
      expect(back.header.pixdim.slice(4, dim[0] + 1)).toEqual(input.header.pixdim.slice(4, dim[0] + 1));
    },
  );
});
