import type { Affine, Shape3 } from '@voxseg/core';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { affineToQform } from './affine.js';
import { writeFileAtomic } from './atomic-write.js';
import { fileError } from './errors.js';
import { datatypeInfo, type NiftiDatatypeName, type NiftiTypedArray } from './nifti-datatypes.js';
import { encodeNiftiHeader, type NiftiHeader, NIFTI1_DATA_OFFSET } from './nifti-header.js';

const gzipAsync = promisify(gzip);

/** Options of {@link writeNifti}. */
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

/**
 * Write a 3-D image as NIfTI-1, gzipped unless the name ends in `.nii`, atomically (temp file +
 * rename: an existing file is replaced only by a complete one). The dims are the reference's,
 * trailing singleton dims included: a (240, 240, 155, 1) input gives a (240, 240, 155, 1) output.
 *
 * @param data voxels x fastest ([D, H, W] row-major), length nx*ny*nz of the reference.
 *   Values are converted to `datatype`: integer types round to nearest and must fit the type
 *   (no silent clipping), and must be finite.
 * @throws DataError naming the file on a size mismatch, an unrepresentable value or a failed write
 */
export async function writeNifti(file: string, data: ArrayLike<number>, options: WriteNiftiOptions): Promise<void> {
  const bytes = encodeNifti(data, options, file);
  const out = file.endsWith('.nii') ? bytes : await gzipAsync(bytes, { level: options.compressionLevel ?? 1 });
  await writeFileAtomic(file, out);
}

/** The uncompressed `.nii` bytes {@link writeNifti} writes. */
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
