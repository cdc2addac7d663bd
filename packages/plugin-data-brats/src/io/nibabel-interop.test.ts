import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createNiftiHeader, writeNifti } from './write-nifti.js';

// Files written by voxseg, read back by nibabel (scripts/nibabel_read.py). Needs python3 with
// nibabel (Debian: python3-nibabel); skipped with a message where it is absent (e.g. CI).
const SCRIPT = fileURLToPath(new URL('../../scripts/nibabel_read.py', import.meta.url));
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import nibabel'], { encoding: 'utf8' }).status === 0);

describe.skipIf(!PYTHON)('nibabel reads what voxseg writes', () => {
  it('same values, dtype, shape, affine (sform and qform) and codes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxseg-nib-'));
    try {
      const c = Math.cos(0.3), s = Math.sin(0.3);
      const affine = [[-c * 1.5, s * 2, 0, 10.5], [s * 1.5, c * 2, 0, -20], [0, 0, -2.5, 7], [0, 0, 0, 1]];
      const header = createNiftiHeader({ shape: [2, 3, 4], affine });
      const f32 = Float32Array.from({ length: 24 }, (_, i) => (i - 7) * 0.37);
      const u8 = Uint8Array.from({ length: 24 }, (_, i) => [0, 1, 2, 4][i % 4]!);
      await writeNifti(join(dir, 'p.nii.gz'), f32, { reference: header, datatype: 'float32' });
      await writeNifti(join(dir, 'l.nii.gz'), u8, { reference: header, datatype: 'uint8' });
      const r = spawnSync(PYTHON!, [SCRIPT, join(dir, 'p.nii.gz'), join(dir, 'l.nii.gz')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const [p, l] = JSON.parse(r.stdout) as { shape_xyz: number[]; dtype: string; affine: number[][]; qform: number[][]; codes: number[]; data: number[] }[];
      expect(p!.shape_xyz).toEqual([4, 3, 2]);
      expect([p!.dtype, l!.dtype]).toEqual(['float32', 'uint8']);
      expect(p!.codes).toEqual([1, 1]);
      for (const m of [p!.affine, p!.qform]) {
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(m[i]![j]).toBeCloseTo(affine[i]![j]!, 5);
      }
      expect(p!.data).toEqual(Array.from(f32));
      expect(l!.data).toEqual(Array.from(u8));
      // A prediction written from an (x, y, z, 1, 1) input has nibabel's shape (x, y, z, 1, 1) too.
      await writeNifti(join(dir, 's.nii.gz'), u8, { reference: { ...header, dim: [5, 4, 3, 2, 1, 1, 1, 1] }, datatype: 'uint8' });
      const r5 = spawnSync(PYTHON!, [SCRIPT, join(dir, 's.nii.gz')], { encoding: 'utf8' });
      expect(r5.status, r5.stderr).toBe(0);
      expect((JSON.parse(r5.stdout) as { shape_xyz: number[] }[])[0]!.shape_xyz).toEqual([4, 3, 2, 1, 1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

if (!PYTHON) console.warn('nibabel-interop.test.ts: skipped (python3 with nibabel not found)');
