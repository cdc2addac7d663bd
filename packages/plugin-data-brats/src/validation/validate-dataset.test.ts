import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNiftiHeader } from '../io/nifti-header.js';
import { readNifti } from '../io/read-nifti.js';
import { createNiftiHeader, writeNifti } from '../io/write-nifti.js';
import { synthesizeDataset } from '../synthetic/synthesize-dataset.js';
import { formatProblem } from './problems.js';
import { selectValidCases, validateDataset } from './validate-dataset.js';

const SHAPE: [number, number, number] = [24, 20, 16];
let root: string;
const file = (k: number, m: string) => join(root, `BraTS2021_0000${k}`, `BraTS2021_0000${k}_${m}.nii.gz`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'voxseg-val-'));
  await synthesizeDataset(root, 10, 3, { shape: SHAPE });
  const t1 = await readNifti(file(0, 't1'), { as: 'native' });
  // 1: a missing modality
  await rename(file(1, 't2'), join(root, 'moved.nii.gz'));
  // 2: dims mismatch (t1ce one voxel shorter in x) and a 4-D flair
  const small = createNiftiHeader({ shape: [16, 20, 23], affine: t1.affine });
  await writeNifti(file(2, 't1ce'), new Int16Array(16 * 20 * 23).fill(5), { reference: small, datatype: 'int16' });
  const four = { ...t1.header, dim: [4, 24, 20, 16, 2, 1, 1, 1], datatype: 4, bitpix: 16 };
  const bytes = new Uint8Array(352 + 24 * 20 * 16 * 2 * 2);
  bytes.set(encodeNiftiHeader(four));
  await writeFile(file(2, 'flair'), gzipSync(bytes));
  // 3: affine mismatch on t2 (shifted 2 mm), NaN and Inf in a float32 flair
  const shifted = createNiftiHeader({ shape: [16, 20, 24], affine: t1.affine.map((r, i) => (i === 0 ? [r[0]!, r[1]!, r[2]!, r[3]! + 2] : [...r])) });
  await writeNifti(file(3, 't2'), (await readNifti(file(3, 't2'), { as: 'native' })).data, { reference: shifted, datatype: 'int16' });
  const flair = await readNifti(file(3, 'flair'));
  flair.data[5] = NaN; flair.data[7] = Infinity; flair.data[9] = NaN;
  await writeNifti(file(3, 'flair'), flair.data, { reference: t1.header, datatype: 'float32' });
  // 4: unexpected label 3 and a non-integer label in a float seg
  const seg = await readNifti(file(4, 'seg'));
  seg.data[0] = 3; seg.data[1] = 3; seg.data[2] = 0.5;
  await writeNifti(file(4, 'seg'), seg.data, { reference: t1.header, datatype: 'float32' });
  // 5: truncated gzip; 6: wrong magic; 7: empty file; 8: corrupt gzip
  const gz = await readFile(file(5, 't1'));
  await writeFile(file(5, 't1'), gz.subarray(0, gz.length >> 1));
  const raw = new Uint8Array(400);
  raw.set(encodeNiftiHeader(t1.header));
  raw.set([0x6e, 0x69, 0x32, 0], 344);
  await writeFile(file(6, 't1ce'), gzipSync(raw));
  await writeFile(file(7, 'seg'), new Uint8Array(0));
  const corrupt = Buffer.from(await readFile(file(8, 'flair')));
  corrupt.fill(0x55, 20, 60);
  await writeFile(file(8, 'flair'), corrupt);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('validateDataset', () => {
  it('reports every problem in one pass, each naming case, file, expected and found', async () => {
    const progress: string[] = [];
    const report = await validateDataset(root, { onProgress: (d, t) => progress.push(`${d}/${t}`) });
    expect(progress).toHaveLength(10);
    expect(report.caseIds).toHaveLength(10);
    expect(report.invalidCaseIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((k) => `BraTS2021_0000${k}`));
    const lines = report.problems.map(formatProblem);
    const expectLine = (k: number, m: string, pattern: RegExp) => {
      const hit = lines.find((l) => l.startsWith(`case BraTS2021_0000${k}: ${file(k, m)}: `) && pattern.test(l));
      expect(hit, `case ${k} ${m} ${pattern}\n${lines.join('\n')}`).toBeDefined();
    };
    expectLine(1, 't2', /expected the t2 file, found no such file/);
    expectLine(2, 't1ce', /expected dims 24x20x16 \(as t1\), found dims 23x20x16/);
    expectLine(2, 'flair', /found 4-D image with dimensions \[24, 20, 16, 2\] where a 3-D image is expected/);
    expectLine(3, 't2', /expected the affine of t1 \(tolerance 0\.001\).*max difference 2\)/);
    expectLine(3, 'flair', /expected finite values, found 2 NaN and 1 infinite voxels, the first at \(x 5, y 0, z 0\)/);
    expectLine(4, 'seg', /expected labels in \{0, 1, 2, 4\}, found label 3 \(2 voxels\), 1 non-integer or non-finite voxels/);
    expectLine(5, 't1', /found truncated gzip data/);
    expectLine(6, 't1ce', /found not a NIfTI-1 file: magic "ni2\\x00" at byte 344, expected "n\+1"/);
    expectLine(7, 'seg', /found empty file \(0 bytes\)/);
    expectLine(8, 'flair', /found corrupt gzip data/);
    expect(lines).toHaveLength(10);
    for (const l of lines) expect(l).not.toContain('\n');
  });

  it('selectValidCases refuses, or skips with reasons', async () => {
    const report = await validateDataset(root);
    expect(() => selectValidCases(report)).toThrow(/^8 of 10 cases in .* are invalid \(first: case BraTS2021_00001: .*t2\.nii\.gz: expected the t2 file, found no such file\); run "voxseg check --data/);
    const { valid, skipped } = selectValidCases(report, { skipInvalid: true });
    expect(valid).toEqual(['BraTS2021_00000', 'BraTS2021_00009']);
    expect(skipped.map((s) => s.id)).toEqual(report.invalidCaseIds);
    expect(skipped.find((s) => s.id === 'BraTS2021_00002')!.reasons).toHaveLength(2);
  });
});
