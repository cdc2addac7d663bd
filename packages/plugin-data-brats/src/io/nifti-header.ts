import { isNIFTI1, isNIFTI2, NIFTI1 } from 'nifti-reader-js';
import { fileError } from './errors.js';

/**
 * The fields of a NIfTI-1 header, as plain data (JSON-serialisable), named as in nifti1.h.
 * Kept with every image read so a prediction can be written back with the same geometry.
 */
export interface NiftiHeader {
  /** Byte order the file was stored in (voxseg always writes little-endian). */
  littleEndian: boolean;
  dim_info: number;
  /** dim[0] = number of dimensions, dim[1..3] = nx, ny, nz, dim[4..7] further dims. */
  dim: number[];
  intent_p1: number;
  intent_p2: number;
  intent_p3: number;
  intent_code: number;
  /** NIfTI datatype code (2 uint8, 4 int16, 16 float32, ...). */
  datatype: number;
  /** Bits per voxel. */
  bitpix: number;
  slice_start: number;
  /** pixdim[0] = qfac (-1 or 1), pixdim[1..3] = voxel size along x, y, z. */
  pixdim: number[];
  /** Byte offset of the voxel data in a `.nii` file. */
  vox_offset: number;
  /** Value scaling: stored * scl_slope + scl_inter, when scl_slope is finite and non-zero. */
  scl_slope: number;
  /** See `scl_slope`. */
  scl_inter: number;
  slice_end: number;
  slice_code: number;
  xyzt_units: number;
  cal_max: number;
  cal_min: number;
  slice_duration: number;
  toffset: number;
  descrip: string;
  aux_file: string;
  /** > 0 when the qform (quatern_*, qoffset_*, pixdim) is meaningful. */
  qform_code: number;
  /** > 0 when the sform (srow_*) is meaningful; it then takes precedence. */
  sform_code: number;
  quatern_b: number;
  quatern_c: number;
  quatern_d: number;
  qoffset_x: number;
  qoffset_y: number;
  qoffset_z: number;
  /** First row of the sform affine (4 numbers); srow_y and srow_z likewise. */
  srow_x: number[];
  srow_y: number[];
  srow_z: number[];
  intent_name: string;
}

/** Size of a NIfTI-1 header plus the 4-byte extension flag: where voxseg writes voxel data. */
export const NIFTI1_DATA_OFFSET = 352;

/**
 * Parse the NIfTI-1 header at the start of `bytes` (already decompressed).
 * @param file named in errors
 * @throws DataError for short data, NIfTI-2, a wrong magic and a wrong sizeof_hdr
 */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.byteLength < 348) {
    throw fileError(file, `not a NIfTI-1 file: ${bytes.byteLength} bytes, a header needs 348`);
  }
  // nifti-reader-js takes an ArrayBuffer starting at the header.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + Math.min(bytes.byteLength, 352)) as ArrayBuffer;
  if (isNIFTI2(buffer)) throw fileError(file, 'NIfTI-2 files are not supported (expected NIfTI-1, magic "n+1")');
  if (!isNIFTI1(buffer)) {
    const magic = [...bytes.subarray(344, 348)].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    if (magic === 'ni1\\x00') {
      throw fileError(file, 'magic "ni1": the header of a .hdr/.img pair; only single-file .nii and .nii.gz (magic "n+1") are supported');
    }
    throw fileError(file, `not a NIfTI-1 file: magic "${magic}" at byte 344, expected "n+1"`);
  }
  // sizeof_hdr is how the byte order is told apart: it must read 348 one way or the other.
  const sizeView = new DataView(buffer, 0, 4);
  const sizeLe = sizeView.getInt32(0, true);
  if (sizeLe !== 348 && sizeView.getInt32(0, false) !== 348) {
    throw fileError(file, `sizeof_hdr = ${sizeLe} (${sizeView.getInt32(0, false)} big-endian), expected 348`);
  }
  const h = new NIFTI1();
  try {
    h.readHeader(buffer);
  } catch (err) {
    throw fileError(file, `unreadable NIfTI-1 header (${err instanceof Error ? err.message : String(err)})`);
  }
  // nifti-reader-js does not keep the srow vectors when it prefers the qform, so read them here.
  const view = new DataView(buffer);
  const row = (offset: number) => [0, 1, 2, 3].map((i) => view.getFloat32(offset + 4 * i, h.littleEndian));
  return {
    littleEndian: h.littleEndian,
    dim_info: h.dim_info,
    dim: [...h.dims],
    intent_p1: h.intent_p1,
    intent_p2: h.intent_p2,
    intent_p3: h.intent_p3,
    intent_code: h.intent_code,
    datatype: h.datatypeCode,
    bitpix: h.numBitsPerVoxel,
    slice_start: h.slice_start,
    pixdim: [...h.pixDims],
    vox_offset: h.vox_offset,
    scl_slope: h.scl_slope,
    scl_inter: h.scl_inter,
    slice_end: h.slice_end,
    slice_code: h.slice_code,
    xyzt_units: h.xyzt_units,
    cal_max: h.cal_max,
    cal_min: h.cal_min,
    slice_duration: h.slice_duration,
    toffset: h.toffset,
    descrip: h.description,
    aux_file: h.aux_file,
    qform_code: h.qform_code,
    sform_code: h.sform_code,
    quatern_b: h.quatern_b,
    quatern_c: h.quatern_c,
    quatern_d: h.quatern_d,
    qoffset_x: h.qoffset_x,
    qoffset_y: h.qoffset_y,
    qoffset_z: h.qoffset_z,
    srow_x: row(280),
    srow_y: row(296),
    srow_z: row(312),
    intent_name: h.intent_name,
  };
}

/**
 * Serialise a header as the 352 bytes that precede voxel data in a `.nii` file (header +
 * empty extension flag), little-endian, `vox_offset` 352, magic `n+1`.
 */
export function encodeNiftiHeader(h: NiftiHeader): Uint8Array {
  const bytes = new Uint8Array(NIFTI1_DATA_OFFSET);
  const v = new DataView(bytes.buffer);
  const le = true;
  const str = (offset: number, length: number, s: string) => {
    for (let i = 0; i < Math.min(length - 1, s.length); i++) bytes[offset + i] = s.charCodeAt(i) & 0x7f;
  };
  v.setInt32(0, 348, le);
  v.setUint8(38, 'r'.charCodeAt(0)); // "regular": ANALYZE legacy field that nibabel also sets.
  v.setUint8(39, h.dim_info);
  for (let i = 0; i < 8; i++) v.setInt16(40 + 2 * i, h.dim[i] ?? 1, le);
  v.setFloat32(56, h.intent_p1, le);
  v.setFloat32(60, h.intent_p2, le);
  v.setFloat32(64, h.intent_p3, le);
  v.setInt16(68, h.intent_code, le);
  v.setInt16(70, h.datatype, le);
  v.setInt16(72, h.bitpix, le);
  v.setInt16(74, h.slice_start, le);
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, h.pixdim[i] ?? 1, le);
  v.setFloat32(108, NIFTI1_DATA_OFFSET, le);
  v.setFloat32(112, h.scl_slope, le);
  v.setFloat32(116, h.scl_inter, le);
  v.setInt16(120, h.slice_end, le);
  v.setUint8(122, h.slice_code);
  v.setUint8(123, h.xyzt_units);
  v.setFloat32(124, h.cal_max, le);
  v.setFloat32(128, h.cal_min, le);
  v.setFloat32(132, h.slice_duration, le);
  v.setFloat32(136, h.toffset, le);
  str(148, 80, h.descrip);
  str(228, 24, h.aux_file);
  v.setInt16(252, h.qform_code, le);
  v.setInt16(254, h.sform_code, le);
  v.setFloat32(256, h.quatern_b, le);
  v.setFloat32(260, h.quatern_c, le);
  v.setFloat32(264, h.quatern_d, le);
  v.setFloat32(268, h.qoffset_x, le);
  v.setFloat32(272, h.qoffset_y, le);
  v.setFloat32(276, h.qoffset_z, le);
  for (let i = 0; i < 4; i++) {
    v.setFloat32(280 + 4 * i, h.srow_x[i] ?? 0, le);
    v.setFloat32(296 + 4 * i, h.srow_y[i] ?? 0, le);
    v.setFloat32(312 + 4 * i, h.srow_z[i] ?? 0, le);
  }
  str(328, 16, h.intent_name);
  str(344, 4, 'n+1');
  // bytes 348..351: extension flag, all zero (no extensions).
  return bytes;
}
