import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { crc32, gunzip, inflateRaw } from 'node:zlib';
import { type DataError, describeSystemError, fileError } from './errors.js';
import { decodeNifti, type NiftiVolume, type ReadNiftiOptions } from './nifti-codec.js';

export { decodeNifti, type NiftiVolume, type ReadNiftiOptions } from './nifti-codec.js';

const gunzipAsync = promisify(gunzip);
const inflateRawAsync = promisify(inflateRaw);

/**
 * Read a NIfTI-1 `.nii` or `.nii.gz` file (gzip is detected from the bytes, not the name).
 * The image must be 3-D: trailing dimensions of size 1 are accepted, anything else is an error.
 *
 * Every header field that decides where or how voxels are read is checked first
 * ({@link validateNifti}).
 *
 * @throws DataError, one line naming the file (and the header field), for: unreadable or
 *   missing file, empty file, corrupt or truncated gzip, wrong magic, NIfTI-2, sizeof_hdr,
 *   dim, datatype, bitpix, vox_offset, scl_inter, a 4-D image, truncated voxel data.
 */
export async function readNifti(file: string, options: { as: 'native' }): Promise<NiftiVolume>;
export async function readNifti(file: string, options?: { as?: 'float32' }): Promise<NiftiVolume<Float32Array>>;
export async function readNifti(file: string, options?: ReadNiftiOptions): Promise<NiftiVolume>;
export async function readNifti(file: string, options: ReadNiftiOptions = {}): Promise<NiftiVolume> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    throw fileError(file, `cannot read (${describeSystemError(err)})`);
  }
  const { bytes, skipped } = await decompress(raw, file);
  try {
    return decodeNifti(bytes, file, options);
  } catch (err) {
    // Data missing after a gzip member that did not decode: the gzip problem is the cause.
    if (skipped && err instanceof Error && /: (truncated voxel data|not a NIfTI-1 file: \d+ bytes)/.test(err.message)) throw skipped;
    throw err;
  }
}

/**
 * Gunzip when the bytes start with the gzip magic; errors name the file.
 *
 * Reads what nibabel (Python's gzip) reads: concatenated gzip members, and trailing bytes after
 * the last complete member (zero padding, garbage, a broken extra member) are ignored. Every
 * member that is used must be complete and pass its CRC-32 and size check.
 */
export async function decompressIfGzip(raw: Uint8Array, file: string): Promise<Uint8Array> {
  return (await decompress(raw, file)).bytes;
}

/**
 * {@link decompressIfGzip}, also saying why the walk stopped when bytes after a complete
 * member were skipped because they started a member that did not decode.
 */
async function decompress(raw: Uint8Array, file: string): Promise<{ bytes: Uint8Array; skipped?: DataError }> {
  if (raw.byteLength === 0) throw fileError(file, 'empty file (0 bytes)');
  if (!isGzip(raw, 0)) return { bytes: raw };
  // The gzip trailer holds the uncompressed size (mod 2^32): one output chunk of that size
  // avoids zlib's default 16 KB chunks and their concatenation (about 2x faster on BraTS files).
  // Deflate expands at most ~1032:1, so the chunk never exceeds what the file can hold, even
  // when the last 4 bytes are not a real trailer.
  const isize = raw.byteLength >= 18 ? new DataView(raw.buffer, raw.byteOffset + raw.byteLength - 4, 4).getUint32(0, true) : 0;
  const chunkSize = Math.min(Math.max(isize + 64, 64 * 1024), raw.byteLength * 1032 + 64 * 1024, 1 << 30);
  try {
    // The fast path: one or more complete members, optionally followed by zero padding.
    return { bytes: await gunzipAsync(raw, { chunkSize }) };
  } catch (err) {
    // Node refuses non-zero bytes after a member: walk the members one by one instead.
    return await gunzipMembers(raw, file, err);
  }
}

function isGzip(raw: Uint8Array, at: number): boolean {
  return raw[at] === 0x1f && raw[at + 1] === 0x8b;
}

function gzipError(file: string, err: unknown): DataError {
  const reason = err instanceof Error ? err.message : String(err);
  const what = /unexpected end|truncated/i.test(reason) ? 'truncated gzip data' : 'corrupt gzip data';
  return fileError(file, `${what} (${reason})`);
}

/**
 * Decompress gzip members in order until the bytes no longer start a member; a member that
 * starts but does not decode ends the walk. The first member must decode (its failure is
 * `firstError`'s report); later failures count as trailing bytes, as in nibabel.
 */
async function gunzipMembers(raw: Uint8Array, file: string, firstError: unknown): Promise<{ bytes: Uint8Array; skipped?: DataError }> {
  const parts: Uint8Array[] = [];
  let skipped: DataError | undefined;
  let at = 0;
  while (at < raw.byteLength && isGzip(raw, at)) {
    let member: { data: Uint8Array; next: number };
    try {
      member = await gunzipMember(raw, at);
    } catch (err) {
      // Node's message is the better one unless it is about bytes after the first member.
      if (parts.length === 0) throw gzipError(file, firstError instanceof Error && /incorrect header|unknown compression/i.test(firstError.message) ? err : firstError);
      skipped = gzipError(file, `gzip member ${parts.length + 1} at byte ${at}: ${err instanceof Error ? err.message : String(err)}`);
      break;
    }
    parts.push(member.data);
    at = member.next;
  }
  if (parts.length === 0) throw gzipError(file, firstError);
  const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return skipped ? { bytes, skipped } : { bytes };
}

/** One gzip member (RFC 1952) starting at `at`: its data and where the next byte is. */
async function gunzipMember(raw: Uint8Array, at: number): Promise<{ data: Uint8Array; next: number }> {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (bytes.byteLength - at < 18) throw new Error('unexpected end of file');
  if (bytes[at + 2] !== 8) throw new Error(`unknown compression method ${bytes[at + 2]}`);
  const flags = bytes[at + 3]!;
  let p = at + 10;
  if (flags & 4) p += 2 + bytes.readUInt16LE(p); // FEXTRA
  for (const bit of [8, 16]) {
    if (flags & bit) { // FNAME, FCOMMENT: zero-terminated
      const zero = bytes.indexOf(0, p);
      if (zero < 0) throw new Error('unexpected end of file');
      p = zero + 1;
    }
  }
  if (flags & 2) p += 2; // FHCRC
  if (p >= bytes.byteLength) throw new Error('unexpected end of file');
  const { buffer: data, engine } = (await inflateRawAsync(bytes.subarray(p), { info: true })) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  const trailer = p + engine.bytesWritten;
  if (trailer + 8 > bytes.byteLength) throw new Error('unexpected end of file: the member has no CRC-32 and size trailer');
  if (bytes.readUInt32LE(trailer) !== crc32(data)) throw new Error('CRC-32 mismatch');
  if (bytes.readUInt32LE(trailer + 4) !== data.byteLength % 2 ** 32) throw new Error('size mismatch');
  return { data, next: trailer + 8 };
}
