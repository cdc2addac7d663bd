import { ensureDir } from '@voxseg/core';
import type { CaseMeta, Shape4 } from '@voxseg/core';
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@voxseg/core';
import { describeSystemError, fileError } from '../io/errors.js';

/** What the cache stores for one case: the output of loading + preprocessing. */
export interface CachedCase {
  meta: CaseMeta;
  image: Float32Array;
  shape: Shape4;
  label?: Uint8Array;
}

/**
 * Bumped whenever preprocessing changes its output, so stale cache files are never reused.
 * Part of every cache key.
 */
export const PREPROCESSING_VERSION = 1;

const MAGIC = 'VXSCASE1';

/**
 * A disk cache of preprocessed cases, one file per case: `<dir>/<caseId>.vxcase`.
 *
 * File layout (little-endian): 8-byte magic `VXSCASE1`, u32 length L of a UTF-8 JSON header
 * `{ key, shape, hasLabel, meta }`, the header, zero padding to a multiple of 4, the float32
 * image (channels-last), then the uint8 label. Float32 is kept (not float16) so a cached
 * case is bit-identical to a freshly preprocessed one.
 *
 * A case is reused while its key is unchanged; the key hashes every source file's path, size
 * and modification time plus {@link PREPROCESSING_VERSION} and the preprocessing options.
 * Files are written atomically. A damaged cache file is treated as a miss, never an error.
 * The cache never touches the source files.
 */
export class CaseCache {
  constructor(
    /** The cache folder (created on first write). */
    readonly dir: string,
  ) {}

  /** Path of the cache file of a case. */
  fileOf(caseId: string): string {
    return join(this.dir, `${caseId}.vxcase`);
  }

  /**
   * The cache key of a case: stats every source file (path, size, mtime).
   * @param extra anything else the output depends on (options), JSON-serialisable
   * @throws DataError naming a source file that cannot be stat-ed
   */
  async keyOf(files: readonly string[], extra: unknown = null): Promise<string> {
    const parts: [string, number, number][] = [];
    for (const f of files) {
      try {
        const s = await stat(f);
        parts.push([f, s.size, s.mtimeMs]);
      } catch (err) {
        throw fileError(f, `cannot read (${describeSystemError(err)})`);
      }
    }
    return createHash('sha256').update(JSON.stringify([PREPROCESSING_VERSION, parts, extra])).digest('hex');
  }

  /** Whether the cache holds this case under this key (reads only the header). */
  async has(caseId: string, key: string): Promise<boolean> {
    try {
      const fh = await open(this.fileOf(caseId), 'r');
      try {
        const head = Buffer.alloc(12);
        await fh.read(head, 0, 12, 0);
        if (head.toString('latin1', 0, 8) !== MAGIC) return false;
        const len = head.readUInt32LE(8);
        if (len > 1 << 24) return false;
        const json = Buffer.alloc(len);
        await fh.read(json, 0, len, 12);
        return (JSON.parse(json.toString('utf8')) as { key?: string }).key === key;
      } finally {
        await fh.close();
      }
    } catch {
      return false;
    }
  }

  /** The cached case, or null on a miss (absent, other key, damaged). */
  async get(caseId: string, key: string): Promise<CachedCase | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.fileOf(caseId));
    } catch {
      return null;
    }
    try {
      return decodeCachedCase(bytes, key);
    } catch {
      return null;
    }
  }

  /** Store a case atomically. @throws DataError naming the cache file when it cannot be written */
  async put(caseId: string, key: string, value: CachedCase): Promise<void> {
    try {
      await ensureDir(this.dir);
    } catch (err) {
      throw fileError(this.dir, `cannot create the cache folder (${describeSystemError(err)})`);
    }
    await writeFileAtomic(this.fileOf(caseId), encodeCachedCase(key, value));
  }
}

function encodeCachedCase(key: string, c: CachedCase): Uint8Array {
  const header = Buffer.from(JSON.stringify({ key, shape: c.shape, hasLabel: !!c.label, meta: c.meta }), 'utf8');
  const headEnd = 12 + header.length;
  const imageStart = Math.ceil(headEnd / 4) * 4;
  const total = imageStart + c.image.byteLength + (c.label ? c.label.byteLength : 0);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  out.set(new Uint8Array(c.image.buffer, c.image.byteOffset, c.image.byteLength), imageStart);
  if (c.label) out.set(c.label, imageStart + c.image.byteLength);
  return out;
}

function decodeCachedCase(bytes: Buffer, key: string): CachedCase | null {
  if (bytes.toString('latin1', 0, 8) !== MAGIC) return null;
  const len = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + len)) as { key: string; shape: Shape4; hasLabel: boolean; meta: CaseMeta };
  if (header.key !== key) return null;
  const n = header.shape[0] * header.shape[1] * header.shape[2];
  const imageStart = Math.ceil((12 + len) / 4) * 4;
  const imageBytes = n * header.shape[3] * 4;
  const expected = imageStart + imageBytes + (header.hasLabel ? n : 0);
  if (bytes.byteLength !== expected) return null;
  const image = new Float32Array(bytes.buffer.slice(bytes.byteOffset + imageStart, bytes.byteOffset + imageStart + imageBytes) as ArrayBuffer);
  const label = header.hasLabel ? new Uint8Array(bytes.subarray(imageStart + imageBytes, expected)) : undefined;
  return { meta: header.meta, image, shape: header.shape, label };
}
