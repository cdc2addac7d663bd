import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readForCheck } from './read-for-check.js';

const fixture = (name: string) => new URL(`../io/__fixtures__/${name}`, import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'voxseg-read-for-check-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('readForCheck', () => {
  it('reads a NIfTI file as float32 or in its stored type', async () => {
    const asFloat = await readForCheck('t1', fixture('dtype-int16.nii.gz'), 'float32');
    expect(asFloat.error).toBeUndefined();
    expect(asFloat.volume!.data).toBeInstanceOf(Float32Array);
    const native = await readForCheck('seg', fixture('dtype-uint8.nii.gz'), 'native');
    expect(native).toMatchObject({ role: 'seg', file: fixture('dtype-uint8.nii.gz') });
    expect(native.volume!.data).toBeInstanceOf(Uint8Array);
  });

  it('returns why a file cannot be read, without the file name the report adds, instead of throwing', async () => {
    const bad = join(dir, 'bad.nii.gz');
    await writeFile(bad, 'not a NIfTI file');
    const r = await readForCheck('flair', bad, 'float32');
    expect(r.volume).toBeUndefined();
    expect(r.role).toBe('flair');
    expect(r.error).toBeTruthy();
    expect(r.error!.startsWith(bad)).toBe(false);
  });
});
