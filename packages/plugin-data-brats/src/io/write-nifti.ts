import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { writeFileAtomic } from '@voxseg/core';
import { encodeNifti, type WriteNiftiOptions } from './nifti-codec.js';

export { createNiftiHeader, encodeNifti, type NewHeaderOptions, type WriteNiftiOptions } from './nifti-codec.js';

const gzipAsync = promisify(gzip);

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
