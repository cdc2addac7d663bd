// Decoding and encoding NIfTI-1 bytes in memory: no file system and no zlib, so the same
// code runs in Node (read-nifti.ts / write-nifti.ts add files and gzip) and in browsers (the
// dashboard's in-browser inference; gzip there is the platform's DecompressionStream).
import type { Affine, Shape3 } from '@voxseg/core';
import { affineToQform, bestAffine, spacingFromHeader } from './affine.js';
import { fileError } from './errors.js';
import { datatypeInfo, type NiftiDatatypeName, type NiftiTypedArray } from './nifti-datatypes.js';
import { encodeNiftiHeader, type NiftiHeader, NIFTI1_DATA_OFFSET } from './nifti-header.js';
import { validateNifti } from './validate-nifti.js';

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
 * Decode an uncompressed NIfTI-1 byte image (header + voxels). As `readNifti` reads (that function adds the file and gzip).
 * @param file named in errors
 */
export function decodeNifti(bytes: Uint8Array, file: string, options: ReadNiftiOptions = {}): NiftiVolume {
  // Every field is checked against the bytes before anything is allocated.
  const { header, layout } = validateNifti(bytes, file);
  const { shape, type, count, start, end, scaling } = layout;
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
  if ((options.as ?? 'float32') === 'float32') {
    volume.data = toFloat32(data, scaling);
  } else if (scaling) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = data[i]! * scaling.slope + scaling.inter;
    volume.data = out;
  }
  return volume;
}

function toFloat32(data: NiftiTypedArray, scaling: { slope: number; inter: number } | null): Float32Array {
  if (!scaling) return data instanceof Float32Array ? data : new Float32Array(data); // native element-wise copy
  const out = new Float32Array(data.length);
  const { slope, inter } = scaling;
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * slope + inter;
  return out;
}

/** Options of `writeNifti` and {@link encodeNifti}. */
export interface WriteNiftiOptions {
  /**
   * Header whose geometry the file gets: dims, pixdim, qform/sform (codes and parameters),
   * units and description are copied; datatype, scaling and calibration are set for the data.
   */
  reference: NiftiHeader;
  /** Stored datatype: `uint8` for label maps, `float32` for probabilities, `int16` for images. */
  datatype: NiftiDatatypeName;
  /** gzip level 0-9 (default 1, nibabel's default: fast, most of the gain). Ignored for `.nii`. */
  compressionLevel?: number;
}

/** The uncompressed `.nii` bytes `writeNifti` writes. */
export function encodeNifti(data: ArrayLike<number>, options: WriteNiftiOptions, file = '<memory>'): Uint8Array {
  const ref = options.reference;
  const type = datatypeInfo(options.datatype);
  if (!type) throw fileError(file, `unsupported output datatype "${String(options.datatype)}"`);
  const n = ref.dim[0]!;
  const dims = [ref.dim[1] ?? 1, ref.dim[2] ?? 1, ref.dim[3] ?? 1];
  if (n > 3 && ref.dim.slice(4, n + 1).some((d) => d > 1)) throw fileError(file, 'cannot write from a 4-D reference header');
  const count = dims[0]! * dims[1]! * dims[2]!;
  if (data.length !== count) {
    throw fileError(file, `data has ${data.length} voxels, the reference header's dims ${dims.join('x')} need ${count}`);
  }
  // Trailing singleton dims of the reference (x, y, z, 1[, 1...]) are kept, with their pixdim,
  // so an output has the same dims as its input (nibabel then gives the same shape to both).
  const ndim = n > 3 && n <= 7 ? n : 3;
  const extraPixdim = [4, 5, 6, 7].map((i) => (i <= ndim ? (ref.pixdim[i] ?? 0) : 0));
  const header: NiftiHeader = {
    ...ref,
    littleEndian: true,
    dim: [ndim, dims[0]!, dims[1]!, dims[2]!, 1, 1, 1, 1],
    pixdim: [ref.pixdim[0] === -1 ? -1 : 1, ref.pixdim[1] ?? 1, ref.pixdim[2] ?? 1, ref.pixdim[3] ?? 1, ...extraPixdim],
    datatype: type.code,
    bitpix: type.bytes * 8,
    vox_offset: NIFTI1_DATA_OFFSET,
    // Values are stored as given: no scaling, no stale display range from the reference.
    scl_slope: 1,
    scl_inter: 0,
    cal_max: 0,
    cal_min: 0,
  };
  const out = new Uint8Array(NIFTI1_DATA_OFFSET + count * type.bytes);
  out.set(encodeNiftiHeader(header), 0);
  const voxels = new type.array(out.buffer as ArrayBuffer, NIFTI1_DATA_OFFSET, count);
  if (data instanceof type.array) {
    voxels.set(data as never);
  } else if (type.range) {
    const [lo, hi] = type.range;
    for (let i = 0; i < count; i++) {
      const v = Math.round(data[i]!);
      if (!(v >= lo && v <= hi)) {
        throw fileError(file, `value ${data[i]} at voxel ${i} does not fit ${type.name} [${lo}, ${hi}]`);
      }
      voxels[i] = v;
    }
  } else {
    for (let i = 0; i < count; i++) voxels[i] = data[i]!;
  }
  return out;
}

/** Geometry for a header made from scratch (e.g. synthetic cases). */
export interface NewHeaderOptions {
  /** [D, H, W] = [nz, ny, nx]. */
  shape: Shape3;
  /** Voxel-to-world affine; written as both sform and qform (codes 1, scanner). */
  affine: Affine;
  /** Free text (80 chars max). */
  descrip?: string;
}

/**
 * A NIfTI-1 header for a new image: sform = the affine, qform = its rotation/zoom/offset
 * decomposition, both with code 1 (scanner anatomical), units mm, datatype float32 (the
 * writer sets the real one).
 */
export function createNiftiHeader(options: NewHeaderOptions): NiftiHeader {
  const [nz, ny, nx] = options.shape;
  const a = options.affine;
  const q = affineToQform(a);
  return {
    littleEndian: true,
    dim_info: 0,
    dim: [3, nx, ny, nz, 1, 1, 1, 1],
    intent_p1: 0, intent_p2: 0, intent_p3: 0, intent_code: 0,
    datatype: 16, bitpix: 32,
    slice_start: 0,
    pixdim: [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], 0, 0, 0, 0],
    vox_offset: NIFTI1_DATA_OFFSET,
    scl_slope: 1, scl_inter: 0,
    slice_end: 0, slice_code: 0,
    xyzt_units: 2, // NIFTI_UNITS_MM
    cal_max: 0, cal_min: 0, slice_duration: 0, toffset: 0,
    descrip: options.descrip ?? '',
    aux_file: '',
    qform_code: 1, sform_code: 1,
    quatern_b: q.quatern_b, quatern_c: q.quatern_c, quatern_d: q.quatern_d,
    qoffset_x: q.qoffset[0], qoffset_y: q.qoffset[1], qoffset_z: q.qoffset[2],
    srow_x: [...a[0]!], srow_y: [...a[1]!], srow_z: [...a[2]!],
    intent_name: '',
  };
}
