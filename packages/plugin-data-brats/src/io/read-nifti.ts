import type { Affine, Shape3 } from '@voxseg/core';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { bestAffine, spacingFromHeader } from './affine.js';
import { describeSystemError, fileError } from './errors.js';
import { datatypeByCode, describeDatatypeCode, type NiftiTypedArray } from './nifti-datatypes.js';
import { type NiftiHeader, parseNiftiHeader } from './nifti-header.js';

const gunzipAsync = promisify(gunzip);

/** A NIfTI image read into memory. */
export interface NiftiVolume<T extends NiftiTypedArray = NiftiTypedArray> {
  /** The file it was read from. */
  file: string;
  /** The parsed header, kept to write outputs with the same geometry. */
  header: NiftiHeader;
  /** [D, H, W] = [nz, ny, nx]. */
  shape: Shape3;
  /** Voxel-to-world affine (nibabel's best affine: sform, else qform, else pixdim-based). */
  affine: Affine;
  /** Voxel spacing in mm, [D, H, W]. */
  spacing: Shape3;
  /** Voxels, x fastest ([D, H, W] row-major): the file's order, never transposed. */
  data: T;
}

/** How {@link readNifti} returns voxel values. */
export interface ReadNiftiOptions {
  /**
   * `float32` (default): a Float32Array with `scl_slope`/`scl_inter` applied: what images use.
   * `native`: the stored typed array (uint8 labels stay Uint8Array); when the header asks for
   * scaling, a Float64Array of scaled values instead (as nibabel's `get_fdata`).
   */
  as?: 'float32' | 'native';
}

/**
 * Read a NIfTI-1 `.nii` or `.nii.gz` file (gzip is detected from the bytes, not the name).
 * The image must be 3-D: trailing dimensions of size 1 are accepted, anything else is an error.
 *
 * @throws DataError, one line naming the file, for: unreadable or missing file, empty file,
 *   corrupt or truncated gzip, wrong magic, NIfTI-2, unsupported datatype, 4-D image,
 *   truncated voxel data.
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
  return decodeNifti(await decompressIfGzip(raw, file), file, options);
}

/** Gunzip when the bytes start with the gzip magic; errors name the file. */
export async function decompressIfGzip(raw: Uint8Array, file: string): Promise<Uint8Array> {
  if (raw.byteLength === 0) throw fileError(file, 'empty file (0 bytes)');
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  // The gzip trailer holds the uncompressed size (mod 2^32): one output chunk of that size
  // avoids zlib's default 16 KB chunks and their concatenation (about 2x faster on BraTS files).
  const isize = raw.byteLength >= 18 ? new DataView(raw.buffer, raw.byteOffset + raw.byteLength - 4, 4).getUint32(0, true) : 0;
  const chunkSize = Math.min(Math.max(isize + 64, 64 * 1024), 1 << 30);
  try {
    return await gunzipAsync(raw, { chunkSize });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const what = /unexpected end/i.test(reason) ? 'truncated gzip data' : 'corrupt gzip data';
    throw fileError(file, `${what} (${reason})`);
  }
}

/**
 * Decode an uncompressed NIfTI-1 byte image (header + voxels). See {@link readNifti}.
 * @param file named in errors
 */
export function decodeNifti(bytes: Uint8Array, file: string, options: ReadNiftiOptions = {}): NiftiVolume {
  const header = parseNiftiHeader(bytes, file);
  const shape = spatialShape(header, file);
  const type = datatypeByCode(header.datatype);
  if (!type) {
    throw fileError(file, `unsupported datatype ${describeDatatypeCode(header.datatype)}; supported: uint8, int8, int16, uint16, int32, float32, float64`);
  }
  const count = shape[0] * shape[1] * shape[2];
  const start = Math.floor(header.vox_offset) || 352;
  const end = start + count * type.bytes;
  if (bytes.byteLength < end) {
    throw fileError(file, `truncated voxel data: expected ${end} bytes (header + ${count} ${type.name} voxels), found ${bytes.byteLength}`);
  }
  let data: NiftiTypedArray;
  if (header.littleEndian) {
    // slice() copies into a fresh, aligned ArrayBuffer the typed array can own.
    data = new type.array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + end) as ArrayBuffer);
  } else {
    data = new type.array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * type.bytes);
    for (let i = 0; i < count; i++) data[i] = view[type.get](i * type.bytes, false);
  }
  const volume: NiftiVolume = { file, header, shape, affine: bestAffine(header), spacing: spacingFromHeader(header), data };
  const scaling = scalingOf(header);
  if ((options.as ?? 'float32') === 'float32') {
    volume.data = toFloat32(data, scaling);
  } else if (scaling) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = data[i]! * scaling.slope + scaling.inter;
    volume.data = out;
  }
  return volume;
}

/**
 * The scaling the header asks for, or null: nibabel's rule, slope 0 / NaN / Inf means none;
 * a non-finite intercept counts as 0; (1, 0) is the identity.
 */
export function scalingOf(h: NiftiHeader): { slope: number; inter: number } | null {
  const slope = h.scl_slope;
  if (!Number.isFinite(slope) || slope === 0) return null;
  const inter = Number.isFinite(h.scl_inter) ? h.scl_inter : 0;
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

function toFloat32(data: NiftiTypedArray, scaling: { slope: number; inter: number } | null): Float32Array {
  if (!scaling) return data instanceof Float32Array ? data : new Float32Array(data); // native element-wise copy
  const out = new Float32Array(data.length);
  const { slope, inter } = scaling;
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * slope + inter;
  return out;
}

/** [nz, ny, nx] from dim[], accepting trailing singleton dimensions; a real 4-D image is an error. */
function spatialShape(h: NiftiHeader, file: string): Shape3 {
  const n = h.dim[0]!;
  if (!(n >= 1 && n <= 7)) throw fileError(file, `invalid dim[0] = ${n} in the header (expected 1..7)`);
  const dims = h.dim.slice(1, n + 1);
  if (dims.some((d) => !(d >= 1))) throw fileError(file, `invalid dimensions [${dims.join(', ')}] in the header`);
  const extra = dims.slice(3);
  if (extra.some((d) => d > 1)) {
    throw fileError(file, `${n}-D image with dimensions [${dims.join(', ')}] where a 3-D image is expected`);
  }
  const [nx = 1, ny = 1, nz = 1] = dims;
  return [nz, ny, nx];
}
