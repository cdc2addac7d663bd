import { Rng } from '@voxseg/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { decodeNifti, decompressIfGzip } from './read-nifti.js';

// Seeded mutations of corpus files (headers and gzip streams). Every outcome must be a volume
// consistent with its header or one DataError line naming the file; never another exception,
// never a hang, never a buffer larger than the file's bytes can back.
const CORPUS = fileURLToPath(new URL('./__fixtures__/corpus/', import.meta.url));
const BASES = ['dtype-int16.nii.gz', 'dtype-float64.nii', 'big-endian-float64.nii', 'scaled-uint8.nii.gz', 'extension.nii', 'singleton-5d.nii']
  .map((f) => {
    const raw = new Uint8Array(readFileSync(join(CORPUS, f)));
    return { name: f, nii: raw[0] === 0x1f ? new Uint8Array(gunzipSync(raw)) : raw };
  });

/** Header fields that decide where and how voxels are read: offset, kind. */
const FIELDS: [number, 'i16' | 'i32' | 'f32'][] = [
  [0, 'i32'], // sizeof_hdr
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => [40 + 2 * i, 'i16'] as [number, 'i16']), // dim
  [70, 'i16'], [72, 'i16'], // datatype, bitpix
  ...[0, 1, 2, 3].map((i) => [76 + 4 * i, 'f32'] as [number, 'f32']), // pixdim
  [108, 'f32'], [112, 'f32'], [116, 'f32'], // vox_offset, scl_slope, scl_inter
  [252, 'i16'], [254, 'i16'], // qform_code, sform_code
  ...[0, 1, 2, 3, 4, 5].map((i) => [256 + 4 * i, 'f32'] as [number, 'f32']), // quatern, qoffset
  ...Array.from({ length: 12 }, (_, i) => [280 + 4 * i, 'f32'] as [number, 'f32']), // srow
];
const SPECIAL = [0, -1, 1, 2, 3, 4, 7, 8, 16, 24, 64, 128, 255, 256, 351, 352, 353, 400, 4096, 32767, -32768, 1e30, -1e30, 0.5, NaN, Infinity, -Infinity, 2 ** 31 - 1];

type Mutant = { what: string; bytes: Uint8Array };

function mutate(rng: Rng, i: number): Mutant {
  const base = BASES[rng.int(BASES.length)]!;
  const nii = base.nii.slice();
  const le = new DataView(nii.buffer).getInt32(0, true) === 348;
  const view = new DataView(nii.buffer);
  const kind = i % 10;
  let what = `${base.name}: `;
  if (kind <= 3) {
    // One to three header fields set to edge values (in the file's byte order).
    for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
      const [offset, type] = FIELDS[rng.int(FIELDS.length)]!;
      const value = rng.bool(0.8) ? SPECIAL[rng.int(SPECIAL.length)]! : Math.round(rng.uniform(-70000, 70000));
      if (type === 'f32') view.setFloat32(offset, value, le);
      else if (type === 'i16') view.setInt16(offset, value, le);
      else view.setInt32(offset, value, le);
      what += `${type}@${offset}=${value} `;
    }
  } else if (kind === 4) {
    for (let k = 0, n = 1 + rng.int(8); k < n; k++) {
      const at = rng.int(352);
      nii[at] = rng.int(256);
      what += `byte ${at} `;
    }
  } else if (kind === 5) {
    const length = rng.int(nii.length);
    what += `cut at ${length}`;
    return { what, bytes: maybeGzip(rng, nii.subarray(0, length)) };
  } else if (kind === 6) {
    what += 'random bytes appended';
    return { what, bytes: maybeGzip(rng, concat(nii, randomBytes(rng, 1 + rng.int(64)))) };
  } else {
    // gzip stream mutations.
    const gz = new Uint8Array(gzipSync(nii));
    if (kind === 7) {
      const at = rng.int(gz.length);
      gz[at] ^= 1 + rng.int(255);
      return { what: `${what}gzip byte ${at} flipped`, bytes: gz };
    }
    if (kind === 8) {
      const tails = [new Uint8Array(1 + rng.int(32)), randomBytes(rng, 1 + rng.int(32)), Uint8Array.of(0x1f, 0x8b, 8, 0), Uint8Array.of(0xff, 0xff, 0xff, 0xff)];
      const t = rng.int(tails.length);
      return { what: `${what}gzip + tail ${t}`, bytes: rng.bool() ? concat(gz, tails[t]!) : gz.subarray(0, rng.int(gz.length)) };
    }
    const cut = rng.int(nii.length);
    return { what: `${what}two members split at ${cut}`, bytes: concat(gzipSync(nii.subarray(0, cut)), gzipSync(nii.subarray(cut))) };
  }
  return { what, bytes: maybeGzip(rng, nii) };
}

function maybeGzip(rng: Rng, b: Uint8Array): Uint8Array {
  return rng.bool() ? new Uint8Array(gzipSync(b)) : b;
}
function randomBytes(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(256));
}
function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe('NIfTI fuzzing (seeded)', () => {
  it('400 header and gzip mutations: a consistent volume or one DataError line, quickly', async () => {
    const rng = new Rng(15);
    const file = '/fuzz/case.nii.gz';
    const outcomes = { read: 0, refused: 0 };
    const reasons = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const m = mutate(rng, i);
      const t0 = performance.now();
      let plain: Uint8Array | undefined;
      try {
        plain = await decompressIfGzip(m.bytes, file);
        const v = decodeNifti(plain, file);
        const count = v.shape[0] * v.shape[1] * v.shape[2];
        expect(v.data.length, m.what).toBe(count);
        // Never more voxels than the file's bytes can hold.
        expect(count, m.what).toBeLessThanOrEqual(plain.byteLength);
        outcomes.read++;
      } catch (err) {
        if (!(err instanceof DataError)) throw new Error(`${m.what}: ${String(err)}`);
        expect(err.message.startsWith(`${file}: `), m.what).toBe(true);
        expect(err.message, m.what).not.toContain('\n');
        const reason = err.message.slice(file.length + 2).split(/[ =:(]/)[0]!;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        outcomes.refused++;
      }
      // Decompressed size is bounded by deflate's ratio, whatever the trailer claims.
      if (plain) expect(plain.byteLength, m.what).toBeLessThanOrEqual(m.bytes.byteLength * 1032 + 1024);
      expect(performance.now() - t0, m.what).toBeLessThan(1000);
    }
    // Both outcomes occur, and the refusals name several different fields.
    expect(outcomes.read).toBeGreaterThan(50);
    expect(outcomes.refused).toBeGreaterThan(100);
    expect(reasons.size).toBeGreaterThanOrEqual(8);
  });

  it('a header claiming gigabytes in a few hundred bytes is refused before any allocation', async () => {
    const base = BASES[1]!.nii.slice(); // float64 .nii, little-endian
    const view = new DataView(base.buffer);
    for (const [nx, ny, nz] of [[1024, 1024, 256], [32767, 32767, 32767]]) {
      view.setInt16(42, nx, true);
      view.setInt16(44, ny, true);
      view.setInt16(46, nz, true);
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      expect(() => decodeNifti(base, '/fuzz/huge.nii')).toThrow(/^\/fuzz\/huge\.nii: truncated voxel data: expected \d+ bytes/);
      expect(performance.now() - t0).toBeLessThan(50);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
    }
    // A gzip trailer claiming 4 GiB does not size the output buffer.
    const gz = concat(gzipSync(BASES[0]!.nii), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    const before = process.memoryUsage().arrayBuffers;
    const plain = await decompressIfGzip(gz, '/fuzz/lying-trailer.nii.gz');
    expect(new Uint8Array(plain)).toEqual(BASES[0]!.nii);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });
});
