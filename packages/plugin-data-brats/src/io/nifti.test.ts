import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affineToQform, qformAffine } from './affine.js';
import { DataError } from './errors.js';
import { NIFTI_DATATYPES, type NiftiDatatypeName } from './nifti-datatypes.js';
import { encodeNiftiHeader, type NiftiHeader } from './nifti-header.js';
import { readNifti } from './read-nifti.js';
import { createNiftiHeader, encodeNifti, writeNifti } from './write-nifti.js';

// Fixtures and expected values written by nibabel 5.0.0: scripts/make_nifti_fixtures.py.
const FIXTURES = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
interface Expected {
  file: string; datatype: number; dtype: string; big_endian: boolean; shape_xyz: number[];
  pixdim: number[]; qform_code: number; sform_code: number; quatern: number[]; qoffset: number[];
  scl_slope: number; scl_inter: number; affine: number[][]; data: number[];
}
let expected: Expected[];
let dir: string;

beforeAll(async () => {
  expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')).cases;
  dir = await mkdtemp(join(tmpdir(), 'voxseg-nifti-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectAffineClose(a: number[][], b: number[][], tol = 1e-5) {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Math.abs(a[i]![j]! - b[i]![j]!)).toBeLessThan(tol);
}

const ARRAY_OF: Record<string, unknown> = {
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  float32: Float32Array, float64: Float64Array, '>f4': Float32Array,
};

describe('readNifti on files written by nibabel', () => {
  it('reads every fixture with nibabel\'s values, shape and best affine', async () => {
    expect(expected.length).toBe(12);
    for (const e of expected) {
      const v = await readNifti(join(FIXTURES, e.file));
      expect(v.shape, e.file).toEqual([e.shape_xyz[2], e.shape_xyz[1], e.shape_xyz[0]]);
      expect(v.data).toBeInstanceOf(Float32Array);
      expect(v.data.length).toBe(e.data.length);
      for (let i = 0; i < e.data.length; i++) {
        expect(Math.abs(v.data[i]! - e.data[i]!), `${e.file}[${i}]`).toBeLessThanOrEqual(Math.abs(e.data[i]!) * 1e-7 + 1e-6);
      }
      expectAffineClose(v.affine, e.affine);
      expect(v.header.qform_code).toBe(e.qform_code);
      expect(v.header.sform_code).toBe(e.sform_code);
      expect(v.header.littleEndian).toBe(!e.big_endian);
      expect(v.spacing).toEqual([e.pixdim[3], e.pixdim[2], e.pixdim[1]].map((p) => Math.fround(p)));
    }
  });

  it('returns the stored typed array with as: native', async () => {
    for (const e of expected.filter((x) => x.file.startsWith('dtype-'))) {
      const v = await readNifti(join(FIXTURES, e.file), { as: 'native' });
      expect(v.data, e.file).toBeInstanceOf(ARRAY_OF[e.dtype] as never);
      expect(Array.from(v.data).slice(0, 5)).toEqual(e.data.slice(0, 5).map((x) => (e.dtype === 'float32' ? Math.fround(x) : x)));
    }
    const scaled = await readNifti(join(FIXTURES, 'scaled-int16.nii.gz'), { as: 'native' });
    expect(scaled.data).toBeInstanceOf(Float64Array); // scaled values do not fit int16
  });

  it('picks sform over qform, qform when sform_code is 0, pixdim base affine when both are 0', async () => {
    const pick = (f: string) => expected.find((e) => e.file === f)!;
    const sq = await readNifti(join(FIXTURES, 'sform-vs-qform.nii.gz'));
    expectAffineClose(sq.affine, [[-1, 0, 0, 0], [0, -1, 0, 239], [0, 0, 1, 0], [0, 0, 0, 1]]);
    const q = await readNifti(join(FIXTURES, 'qform-only.nii.gz'));
    expectAffineClose(q.affine, pick('qform-only.nii.gz').affine);
    expect(q.header.pixdim[0]).toBe(-1); // left-handed: qfac -1
    const base = await readNifti(join(FIXTURES, 'no-transform.nii.gz'));
    expectAffineClose(base.affine, [[-1.5, 0, 0, 2.25], [0, 2, 0, -2], [0, 0, 2.5, -1.25], [0, 0, 0, 1]]);
  });

  it('applies scl_slope and scl_inter', async () => {
    const e = expected.find((x) => x.file === 'scaled-int16.nii.gz')!;
    expect([e.scl_slope, e.scl_inter]).toEqual([0.25, -100]);
    const v = await readNifti(join(FIXTURES, e.file));
    expect(v.header.scl_slope).toBe(0.25);
    expect(v.data[3]).toBeCloseTo(e.data[3]!, 4);
  });
});

describe('affineToQform', () => {
  it('recovers the quaternion nibabel wrote, and the affine from it', async () => {
    const e = expected.find((x) => x.file === 'qform-only.nii.gz')!;
    const q = affineToQform(e.affine);
    expect(q.qfac).toBe(-1);
    expect(q.quatern_b).toBeCloseTo(e.quatern[0]!, 5);
    expect(q.quatern_c).toBeCloseTo(e.quatern[1]!, 5);
    expect(q.quatern_d).toBeCloseTo(e.quatern[2]!, 5);
    const h = createNiftiHeader({ shape: [2, 3, 4], affine: e.affine });
    expectAffineClose(qformAffine(h), e.affine);
  });

  it('encodes the BraTS affine as the 180-degree rotation about z', () => {
    const q = affineToQform([[-1, 0, 0, 0], [0, -1, 0, 239], [0, 0, 1, 0], [0, 0, 0, 1]]);
    expect([q.quatern_b, q.quatern_c, q.quatern_d, q.qfac]).toEqual([0, 0, 1, 1]);
  });
});

describe('writeNifti round trips', () => {
  const names = Object.keys(NIFTI_DATATYPES) as NiftiDatatypeName[];
  it.each(names)('%s: values, dims, pixdim, affine and codes survive', async (name) => {
    const ref = (await readNifti(join(FIXTURES, 'sform-vs-qform.nii.gz'))).header;
    const e = expected.find((x) => x.file === `dtype-${name}.nii.gz`)!;
    const values = new NIFTI_DATATYPES[name].array(e.data.length);
    for (let i = 0; i < values.length; i++) values[i] = e.data[i]!;
    const file = join(dir, `rt-${name}.nii.gz`);
    await writeNifti(file, values, { reference: ref, datatype: name });
    const back = await readNifti(file, { as: 'native' });
    expect(back.header.datatype).toBe(NIFTI_DATATYPES[name].code);
    expect(back.data).toBeInstanceOf(NIFTI_DATATYPES[name].array);
    expect(Array.from(back.data)).toEqual(Array.from(values));
    expect(back.header.dim.slice(0, 4)).toEqual([3, 4, 3, 2]);
    expect(back.header.pixdim.slice(0, 4)).toEqual(ref.pixdim.slice(0, 4));
    expect([back.header.qform_code, back.header.sform_code]).toEqual([1, 2]);
    expect(back.affine).toEqual((await readNifti(join(FIXTURES, 'sform-vs-qform.nii.gz'))).affine);
    expect(back.header.quatern_d).toBe(ref.quatern_d);
  });

  it('writes uncompressed .nii when asked and converts float data to integer types by rounding', async () => {
    const ref = createNiftiHeader({ shape: [2, 3, 4], affine: [[-1, 0, 0, 0], [0, -1, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]] });
    const file = join(dir, 'plain.nii');
    await writeNifti(file, Float32Array.from({ length: 24 }, (_, i) => i * 0.6), { reference: ref, datatype: 'int16' });
    const bytes = await readFile(file);
    expect(bytes.byteLength).toBe(352 + 48);
    const back = await readNifti(file, { as: 'native' });
    expect(Array.from(back.data).slice(0, 4)).toEqual([0, 1, 1, 2]);
    expect(back.affine).toEqual([[-1, 0, 0, 0], [0, -1, 0, 2], [0, 0, 1, 0], [0, 0, 0, 1]]);
  });
});

describe('bad input: one line naming the file', () => {
  const header = (patch: Partial<NiftiHeader>) => ({
    ...createNiftiHeader({ shape: [2, 3, 4], affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] }),
    ...patch,
  });
  async function expectError(file: string, pattern: RegExp) {
    const err = await readNifti(file).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  }
  const good = () => encodeNifti(new Uint8Array(24), { reference: header({}), datatype: 'uint8' });

  it('empty file', async () => {
    const f = join(dir, 'empty.nii.gz');
    await writeFile(f, new Uint8Array(0));
    await expectError(f, /empty file/);
  });
  it('truncated gzip', async () => {
    const f = join(dir, 'truncated.nii.gz');
    const gz = gzipSync(good());
    await writeFile(f, gz.subarray(0, gz.length - 20));
    await expectError(f, /truncated gzip/);
  });
  it('corrupt gzip', async () => {
    const f = join(dir, 'corrupt.nii.gz');
    const gz = Buffer.from(gzipSync(good()));
    gz.fill(0xff, 12, 40);
    await writeFile(f, gz);
    await expectError(f, /corrupt gzip/);
  });
  it('wrong magic', async () => {
    const f = join(dir, 'magic.nii');
    const bytes = good();
    bytes.set([0x78, 0x79, 0x7a, 0], 344);
    await writeFile(f, bytes);
    await expectError(f, /magic "xyz\\x00".*expected "n\+1"/);
  });
  it('not a NIfTI file at all', async () => {
    const f = join(dir, 'text.nii');
    await writeFile(f, 'hello');
    await expectError(f, /not a NIfTI-1 file: 5 bytes/);
  });
  it('4-D image', async () => {
    const f = join(dir, 'four-d.nii.gz');
    const bytes = new Uint8Array(352 + 48);
    bytes.set(encodeNiftiHeader(header({ dim: [4, 4, 3, 2, 2, 1, 1, 1], datatype: 2, bitpix: 8 })));
    await writeFile(f, gzipSync(bytes));
    await expectError(f, /4-D image with dimensions \[4, 3, 2, 2\] where a 3-D image is expected/);
  });
  it('unsupported datatype', async () => {
    const f = join(dir, 'rgb.nii.gz');
    const bytes = new Uint8Array(352 + 72);
    bytes.set(encodeNiftiHeader(header({ datatype: 128, bitpix: 24 })));
    await writeFile(f, gzipSync(bytes));
    await expectError(f, /unsupported datatype 128 \(rgb24\)/);
  });
  it('truncated voxel data', async () => {
    const f = join(dir, 'short.nii');
    await writeFile(f, good().subarray(0, 352 + 10));
    await expectError(f, /truncated voxel data: expected 376 bytes .* found 362/);
  });
  it('missing file and a directory instead of a file', async () => {
    await expectError(join(dir, 'nope.nii.gz'), /cannot read \(ENOENT/);
    await expectError(dir, /cannot read \(EISDIR/);
  });

  it('a failed write leaves the existing file intact and no temp file behind', async () => {
    const f = join(dir, 'keep.nii.gz');
    const ref = header({});
    await writeNifti(f, new Uint8Array(24).fill(7), { reference: ref, datatype: 'uint8' });
    const before = await stat(f);
    await expect(writeNifti(f, new Float32Array(24).fill(300), { reference: ref, datatype: 'uint8' })).rejects.toThrow(/keep\.nii\.gz: value 300 at voxel 0 does not fit uint8/);
    await expect(writeNifti(f, new Float32Array(23), { reference: ref, datatype: 'uint8' })).rejects.toThrow(/23 voxels/);
    await expect(writeNifti(join(dir, 'no-such-dir', 'x.nii.gz'), new Uint8Array(24), { reference: ref, datatype: 'uint8' })).rejects.toThrow(/x\.nii\.gz: cannot write.*ENOENT/);
    expect((await stat(f)).mtimeMs).toBe(before.mtimeMs);
    expect(Array.from((await readNifti(f, { as: 'native' })).data)).toEqual(new Array(24).fill(7));
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
