import type { CaseMeta } from '@voxseg/core';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/preprocessing-golden.json' with { type: 'json' };
import { CaseCache } from './case-cache.js';
import { Rng } from '@voxseg/core';
import { croppedBrainMask, fillHoles, nonzeroMask } from './nonzero-mask.js';
import { boundingBoxNonZero as boundingBox, cropToBox as cropVolume, pasteIntoGrid } from '@voxseg/core';
import { preprocessCase } from './preprocess-case.js';

// Golden values: nnU-Net v1's crop + z-score replicated with numpy/scipy (scripts/golden_preprocessing.py).
const shape = golden.shape as [number, number, number];

describe('preprocessCase (nnU-Net crop + masked z-score)', () => {
  it('matches the numpy/scipy reference', () => {
    const out = preprocessCase({ channels: golden.channels.map((c) => Float32Array.from(c)), label: Uint8Array.from(golden.label), shape });
    expect(out.cropBox).toEqual({ start: golden.crop_start, end: golden.crop_end });
    expect(out.originalShape).toEqual(shape);
    expect(out.shape).toEqual([...golden.crop_end.map((e, i) => e - golden.crop_start[i]!), 4]);
    expect(Array.from(out.label!)).toEqual(golden.cropped_label);
    expect(out.image.length).toBe(golden.image.length);
    for (let i = 0; i < golden.image.length; i++) expect(out.image[i]).toBeCloseTo(golden.image[i]!, 4);
    out.stats.forEach((s, c) => {
      expect(s.mean).toBeCloseTo(golden.stats[c]!.mean, 3);
      expect(s.std).toBeCloseTo(golden.stats[c]!.std, 3);
    });
  });

  it('fills enclosed holes only (scipy binary_fill_holes)', () => {
    const mask = nonzeroMask(golden.channels.map((c) => Float32Array.from(c)), shape);
    const at = (z: number, y: number, x: number) => mask[(z * shape[1] + y) * shape[2] + x];
    expect(at(2, 3, 3)).toBe(golden.filled_hole_in_mask ? 1 : 0);
    expect(at(1, 2, 1)).toBe(0);
    // a hollow cube: the inside is a hole, the outside is not
    const s: [number, number, number] = [5, 5, 5];
    const m = new Uint8Array(125);
    for (let z = 1; z < 4; z++) for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) m[(z * 5 + y) * 5 + x] = 1;
    m[(2 * 5 + 2) * 5 + 2] = 0;
    const f = fillHoles(m, s);
    expect(f[(2 * 5 + 2) * 5 + 2]).toBe(1);
    expect(f.reduce((a, b) => a + b, 0)).toBe(27);
  });

  it('croppedBrainMask equals cropping the whole-volume hole-filled mask (random shells with holes)', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 20; trial++) {
      const s: [number, number, number] = [4 + rng.int(8), 4 + rng.int(8), 4 + rng.int(8)];
      const n = s[0] * s[1] * s[2];
      const ch = [new Float32Array(n), new Float32Array(n)];
      const p = rng.uniform(0.3, 0.9);
      for (let i = 0; i < n; i++) if (rng.bool(p)) ch[rng.int(2)]![i] = 1 + rng.int(5);
      const full = nonzeroMask(ch, s);
      const { box, mask } = croppedBrainMask(ch, s);
      const fullBox = boundingBox(full, s);
      if (!fullBox) { expect(mask.every((v) => v === 0)).toBe(true); continue; }
      expect(box).toEqual(fullBox);
      expect(Array.from(mask)).toEqual(Array.from(cropVolume(full, s, box)));
    }
  });

  it('crop then paste restores the volume inside the box', () => {
    const s: [number, number, number] = [4, 5, 6];
    const v = Float32Array.from({ length: 120 }, (_, i) => i + 1);
    const box = { start: [1, 2, 0] as [number, number, number], end: [3, 5, 4] as [number, number, number] };
    const c = cropVolume(v, s, box);
    expect(c.length).toBe(2 * 3 * 4);
    expect(c[0]).toBe(v[(1 * 5 + 2) * 6]);
    const p = pasteIntoGrid(c, box, s);
    for (let z = 0; z < 4; z++) for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) {
      const i = (z * 5 + y) * 6 + x;
      const inside = z >= 1 && z < 3 && y >= 2 && y < 5 && x < 4;
      expect(p[i]).toBe(inside ? v[i] : 0);
    }
    expect(boundingBox(new Uint8Array(8), [2, 2, 2])).toBeNull();
  });

  it('keeps the whole volume when every voxel is zero', () => {
    const out = preprocessCase({ channels: [new Float32Array(24)], shape: [2, 3, 4] });
    expect(out.cropBox).toEqual({ start: [0, 0, 0], end: [2, 3, 4] });
    expect(Array.from(out.image)).toEqual(new Array(24).fill(0));
  });
});

describe('CaseCache', () => {
  const meta: CaseMeta = {
    id: 'c1', affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], spacing: [1, 1, 1],
    originalShape: [4, 4, 4], cropBox: { start: [0, 0, 0], end: [2, 2, 2] }, modalities: ['a', 'b'], files: {},
  };
  it('round trips bit-exactly, misses on a changed source, survives damage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxseg-cache-'));
    try {
      const src = join(dir, 'src.nii.gz');
      await writeFile(src, 'x');
      const cache = new CaseCache(join(dir, 'cache'));
      const key = await cache.keyOf([src], { opt: 1 });
      expect(await cache.get('c1', key)).toBeNull();
      const image = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 1e3);
      const label = Uint8Array.from({ length: 8 }, (_, i) => [0, 1, 2, 4][i % 4]!);
      await cache.put('c1', key, { meta, image, shape: [2, 2, 2, 2], label });
      expect(await cache.has('c1', key)).toBe(true);
      const back = await cache.get('c1', key);
      expect(back!.meta).toEqual(meta);
      expect(back!.shape).toEqual([2, 2, 2, 2]);
      expect(Array.from(back!.image)).toEqual(Array.from(image));
      expect(Array.from(back!.label!)).toEqual(Array.from(label));
      expect((await readdir(join(dir, 'cache')))).toEqual(['c1.vxcase']);
      // other options -> other key
      expect(await cache.keyOf([src], { opt: 2 })).not.toBe(key);
      // touching the source changes the key -> miss
      await utimes(src, new Date(), new Date(Date.now() + 5000));
      const key2 = await cache.keyOf([src], { opt: 1 });
      expect(key2).not.toBe(key);
      expect(await cache.get('c1', key2)).toBeNull();
      // a damaged file is a miss, not an error
      await writeFile(cache.fileOf('c1'), 'VXSCASE1garbage');
      expect(await cache.get('c1', key)).toBeNull();
      expect(await cache.has('c1', key)).toBe(false);
      await expect(cache.keyOf([join(dir, 'missing.nii.gz')])).rejects.toThrow(/missing\.nii\.gz: cannot read \(ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
