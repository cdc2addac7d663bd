import type { Shape3 } from '@voxseg/core';
import { bestAffine } from './affine.js';
import { fileError } from './errors.js';
import { datatypeByCode, type DatatypeInfo, describeDatatypeCode } from './nifti-datatypes.js';
import { type NiftiHeader, NIFTI1_DATA_OFFSET, parseNiftiHeader } from './nifti-header.js';

/** Where and how the voxels of a validated single-file NIfTI-1 image are stored. */
export interface NiftiVoxelLayout {
  /** [D, H, W] = [nz, ny, nx]; trailing singleton dims (x, y, z, 1, 1) are dropped. */
  shape: Shape3;
  /** Stored datatype. */
  type: DatatypeInfo;
  /** Number of voxels (nx * ny * nz). */
  count: number;
  /** Byte offset of the first voxel: floor(vox_offset), as nibabel. */
  start: number;
  /** Byte offset just past the last voxel: start + count * bytes per voxel. */
  end: number;
  /** `stored * slope + inter`, or null for none. */
  scaling: { slope: number; inter: number } | null;
}

/**
 * The one validation of a single-file NIfTI-1 image (`.nii`, or `.nii.gz` once decompressed):
 * every header field that decides where or how voxels are read is checked against the bytes
 * before any voxel buffer is allocated. `readNifti` (and so `voxseg check`, dataset loading,
 * `predict`, `evaluate`) goes through it.
 *
 * Checked, in this order (the first failure is thrown):
 * - length >= 348, magic `n+1` (NIfTI-2 and `.hdr/.img` pairs named), `sizeof_hdr` = 348;
 * - `dim[0]` in 1..7, `dim[1..dim[0]]` >= 1, dims past the third all 1 (a 3-D image);
 * - `datatype` supported, `bitpix` = the datatype's bits;
 * - `vox_offset` finite, >= 352 (a single file keeps its voxels after header and extension
 *   flag), within the data; floor(vox_offset) + voxels * bytes within the data;
 * - `scl_inter` finite when `scl_slope` asks for scaling (slope 0, NaN or Inf: no scaling);
 * - the affine voxseg uses (sform, else qform, else pixdim) finite.
 *
 * @param bytes the whole uncompressed file
 * @param file named in errors
 * @throws DataError, one line `<file>: <field> ...: <what is wrong>`
 */
export function validateNifti(bytes: Uint8Array, file: string): { header: NiftiHeader; layout: NiftiVoxelLayout } {
  const header = parseNiftiHeader(bytes, file);
  return { header, layout: niftiVoxelLayout(header, bytes.byteLength, file) };
}

/**
 * The field checks of {@link validateNifti} for an already parsed header and the number of
 * bytes the file holds (header included).
 */
export function niftiVoxelLayout(h: NiftiHeader, byteLength: number, file: string): NiftiVoxelLayout {
  const shape = spatialShape(h, file);
  const type = datatypeByCode(h.datatype);
  if (!type) {
    throw fileError(file, `unsupported datatype ${describeDatatypeCode(h.datatype)}; supported: uint8, int8, int16, uint16, int32, float32, float64`);
  }
  if (h.bitpix !== type.bytes * 8) {
    throw fileError(file, `bitpix = ${h.bitpix} does not match datatype ${describeDatatypeCode(h.datatype)}, which has ${type.bytes * 8} bits per voxel`);
  }
  const offset = h.vox_offset;
  if (!Number.isFinite(offset)) throw fileError(file, `vox_offset = ${offset} is not a byte offset`);
  // nibabel takes int(vox_offset); 0 would make it read the header as voxels.
  const start = Math.floor(offset);
  if (start < NIFTI1_DATA_OFFSET) {
    throw fileError(file, `vox_offset = ${offset} is below ${NIFTI1_DATA_OFFSET}: a single-file .nii keeps its voxels after the 348-byte header and the 4-byte extension flag`);
  }
  if (start > byteLength) {
    throw fileError(file, `vox_offset = ${offset} is past the end of the data (${byteLength} bytes)`);
  }
  const count = shape[0] * shape[1] * shape[2];
  // Compared as numbers before anything is allocated: a header claiming 32767^3 voxels in a
  // few hundred bytes is refused here, not by a failed allocation.
  const end = start + count * type.bytes;
  if (end > byteLength) {
    throw fileError(
      file,
      `truncated voxel data: expected ${end} bytes (vox_offset ${start} + ${count} ${type.name} voxels of dims ${shape[2]}x${shape[1]}x${shape[0]}), found ${byteLength}`,
    );
  }
  const scaling = scalingOf(h, file);
  // The voxel-to-world affine goes into every output header: NaN or Inf there is refused
  // rather than passed on (nibabel would return it as is).
  if (!bestAffine(h).every((row) => row.every(Number.isFinite))) {
    const fields = h.sform_code > 0 ? `srow_x/srow_y/srow_z (sform_code ${h.sform_code})` : h.qform_code > 0 ? `quatern_*/qoffset_*/pixdim (qform_code ${h.qform_code})` : 'pixdim';
    throw fileError(file, `${fields}: the voxel-to-world affine has NaN or infinite entries`);
  }
  return { shape, type, count, start, end, scaling };
}

/**
 * The scaling the header asks for, or null: nibabel's rule, slope 0, NaN or Inf means none;
 * (1, 0) is the identity. A usable slope with a NaN or infinite intercept is an error (nibabel
 * refuses it too) when `file` is given; without `file` it counts as 0.
 */
export function scalingOf(h: NiftiHeader, file?: string): { slope: number; inter: number } | null {
  const slope = h.scl_slope;
  if (!Number.isFinite(slope) || slope === 0) return null;
  if (!Number.isFinite(h.scl_inter)) {
    if (file !== undefined) throw fileError(file, `scl_inter = ${h.scl_inter} with scl_slope = ${slope}: the value scaling is undefined`);
    return slope === 1 ? null : { slope, inter: 0 };
  }
  const inter = h.scl_inter;
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

/** [nz, ny, nx] from dim[], accepting trailing singleton dimensions; a real 4-D image is an error. */
function spatialShape(h: NiftiHeader, file: string): Shape3 {
  const n = h.dim[0]!;
  if (!(n >= 1 && n <= 7)) throw fileError(file, `dim[0] = ${n} is not a number of dimensions (expected 1..7)`);
  const dims = h.dim.slice(1, n + 1);
  const bad = dims.findIndex((d) => !(d >= 1));
  if (bad >= 0) throw fileError(file, `dim[${bad + 1}] = ${dims[bad]} in dimensions [${dims.join(', ')}]: every dimension must be >= 1`);
  const extra = dims.slice(3);
  const big = extra.findIndex((d) => d > 1);
  if (big >= 0) {
    throw fileError(file, `${n}-D image with dimensions [${dims.join(', ')}] where a 3-D image is expected (dim[${big + 4}] = ${extra[big]})`);
  }
  const [nx = 1, ny = 1, nz = 1] = dims;
  return [nz, ny, nx];
}
