/**
 * The browser-safe part of @voxseg/plugin-data-brats (no `node:` imports): NIfTI bytes in and
 * out, the preprocessing of a case, region decoding and ET post-processing, exactly the code
 * the Node pipeline runs. Bundlers that honour the `browser` export condition resolve
 * `@voxseg/plugin-data-brats` to this entry.
 * @packageDocumentation
 */
export * from './io/nifti-codec.js';
export * from './io/nifti-header.js';
export * from './io/nifti-datatypes.js';
export * from './io/affine.js';
export * from './io/errors.js';
export * from './preprocessing/preprocess-case.js';
export * from './regions/brats-regions.js';
