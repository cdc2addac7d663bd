import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readNifti } from '@voxseg/plugin-data-brats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NnunetDataset } from '@voxseg/plugin-data-nnunet';
import { runCli, type CliIo } from '../program.js';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  const code = await runCli(['node', 'voxseg', ...args], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voxseg-cli-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('voxseg synth and voxseg check', () => {
  it('synth writes cases that check finds all valid', async () => {
    const out = join(dir, 'data');
    const r = await run('synth', '--out', out, '--cases', '2', '--seed', '4', '--shape', '24,20,16');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote 2 cases (24x20x16, seed 4) to ${out}\n`);
    expect(await readdir(out)).toEqual(['BraTS2021_00000', 'BraTS2021_00001']);
    const c = await run('check', '--data', out);
    expect(c).toMatchObject({ code: 0, stdout: '2 cases, all valid\n' });
  });

  it('synth refuses to overwrite without --force, in one line, and leaves the files alone', async () => {
    const out = join(dir, 'data');
    const before = (await stat(join(out, 'BraTS2021_00000', 'BraTS2021_00000_t1.nii.gz'))).mtimeMs;
    const r = await run('synth', '--out', out, '--cases', '1', '--shape', '24,20,16');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^voxseg synth: .*BraTS2021_00000: already exists; pass --force/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect((await stat(join(out, 'BraTS2021_00000', 'BraTS2021_00000_t1.nii.gz'))).mtimeMs).toBe(before);
    const f = await run('synth', '--out', out, '--cases', '1', '--shape', '24,20,16', '--force');
    expect(f.code).toBe(0);
  });

  it('synth --layout nnunet writes an nnU-Net v2 raw dataset (Dataset137_BraTS2021 style) that the nnunet dataset loads', async () => {
    const out = join(dir, 'Dataset137_BraTS2021');
    const r = await run('synth', '--out', out, '--cases', '2', '--test-cases', '1', '--seed', '4', '--shape', '24,20,16', '--layout', 'nnunet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote 2 cases and 1 test case (24x20x16, seed 4, nnU-Net layout) to ${out}\n`);
    expect((await readdir(out)).sort()).toEqual(['dataset.json', 'imagesTr', 'imagesTs', 'labelsTr', 'labelsTs']);
    expect((await readdir(join(out, 'imagesTr'))).sort()).toEqual(
      ['BraTS2021_00000', 'BraTS2021_00001'].flatMap((id) => ['0000', '0001', '0002', '0003'].map((c) => `${id}_${c}.nii.gz`)),
    );
    const ds = new NnunetDataset({ root: out, cacheDir: false });
    expect(await ds.caseIds()).toEqual(['BraTS2021_00000', 'BraTS2021_00001']);
    expect(ds.targets.channels).toEqual(['whole tumor', 'tumor core', 'enhancing tumor']);
    expect((await ds.loadCase('BraTS2021_00001')).shape[3]).toBe(4);
    const again = await run('synth', '--out', out, '--cases', '1', '--shape', '24,20,16', '--layout', 'nnunet');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`voxseg synth: ${join(out, 'dataset.json')}: already exists; pass --force (option force: true) to overwrite the dataset\n`);
    for (const [args, message] of [
      [['--layout', 'msd'], 'voxseg synth: --layout must be brats or nnunet, got "msd"'],
      [['--test-cases', '2'], 'voxseg synth: --test-cases needs --layout nnunet'],
      [['--layout', 'nnunet', '--test-cases', '-1'], 'voxseg synth: --test-cases must be an integer >= 0, got "-1"'],
    ] as const) {
      const bad = await run('synth', '--out', join(dir, 'y'), '--cases', '1', ...args);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(`${message}\n`);
    }
  });

  it('synth rejects bad flags naming the flag', async () => {
    for (const [args, pattern] of [
      [['--cases', '0'], /--cases must be an integer >= 1, got "0"/],
      [['--cases', 'two'], /--cases must be an integer >= 1, got "two"/],
      [['--cases', '1', '--seed', '-3'], /--seed must be an integer >= 0/],
      [['--cases', '1', '--shape', '24,20'], /--shape must be X,Y,Z with integers in \[8, 1024\], got "24,20"/],
    ] as const) {
      const r = await run('synth', '--out', join(dir, 'x'), ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('check lists every problem, each naming case and file, and exits 1', async () => {
    const out = join(dir, 'broken');
    await run('synth', '--out', out, '--cases', '3', '--shape', '24,20,16');
    await rename(join(out, 'BraTS2021_00001', 'BraTS2021_00001_t1ce.nii.gz'), join(dir, 'moved.nii.gz'));
    await rename(join(out, 'BraTS2021_00002', 'BraTS2021_00002_seg.nii.gz'), join(out, 'BraTS2021_00002', 'BraTS2021_00002_t2.nii.gz'));
    const r = await run('check', '--data', out);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`case BraTS2021_00001: ${join(out, 'BraTS2021_00001', 'BraTS2021_00001_t1ce.nii.gz')}: expected the t1ce file, found no such file`);
    expect(lines.some((l) => l.startsWith('case BraTS2021_00002: ') && l.includes('t2.nii.gz'))).toBe(false); // the seg now sits as t2: valid image
    expect(lines.at(-1)).toBe('3 cases, 1 invalid (1 problem)');
    expect(r.stderr).toMatch(/voxseg check: 1 of 3 cases in .* are invalid/);
    const j = await run('check', '--data', out, '--json');
    expect(j.code).toBe(1);
    const last = JSON.parse(j.stdout.trimEnd().split('\n').at(-1)!);
    expect(last.cases).toBe(3);
    expect(last.invalid).toEqual(['BraTS2021_00001']);
    expect(last.problems[0]).toMatchObject({ caseId: 'BraTS2021_00001', check: 'missing' });
  });

  // Issue 15 items 1 and 2: a t1 whose vox_offset (bytes 108..112, float32) is -2 or 100 was
  // called valid by check and then read as an empty volume or as header bytes.
  it.each([[-2, 'vox_offset = -2 is below 352'], [100, 'vox_offset = 100 is below 352']] as const)(
    'check and the reader refuse a t1 with vox_offset %d, naming the file and the field',
    async (offset, reason) => {
      const out = join(dir, `vox-offset-${offset}`);
      expect((await run('synth', '--out', out, '--cases', '2', '--seed', '5', '--shape', '16,16,12')).code).toBe(0);
      const t1 = join(out, 'BraTS2021_00001', 'BraTS2021_00001_t1.nii.gz');
      const nii = gunzipSync(await readFile(t1));
      nii.writeFloatLE(offset, 108);
      await writeFile(t1, gzipSync(nii));
      const r = await run('check', '--data', out);
      expect(r.code).toBe(1);
      expect(r.stdout.trimEnd().split('\n')).toEqual([`case BraTS2021_00001: ${t1}: expected a readable 3-D NIfTI-1 image, found ${reason}: a single-file .nii keeps its voxels after the 348-byte header and the 4-byte extension flag`, '2 cases, 1 invalid (1 problem)']);
      await expect(readNifti(t1)).rejects.toThrow(`${t1}: ${reason}`);
    },
  );

  it('check on an empty or missing folder is a clear one-line error', async () => {
    const empty = join(dir, 'empty');
    await run('synth', '--out', join(dir, 'tmp-for-empty'), '--cases', '1', '--shape', '8,8,8');
    await rm(join(dir, 'tmp-for-empty', 'BraTS2021_00000'), { recursive: true });
    await rename(join(dir, 'tmp-for-empty'), empty);
    const r = await run('check', '--data', empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`voxseg check: ${empty}: no case folders found (expected <id>/ sub-folders holding <id>_t1.nii.gz, <id>_t1ce.nii.gz, <id>_t2.nii.gz, <id>_flair.nii.gz)\n`);
    const m = await run('check', '--data', join(dir, 'missing'));
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^voxseg check: .*missing: cannot read the dataset folder \(ENOENT: no such file\)\n$/);
  });
});
