export * from './errors.js';
export * from './atomic-write.js';
export * from './nifti-datatypes.js';
export * from './nifti-header.js';
export * from './affine.js';
export * from './validate-nifti.js';
export * from './read-nifti.js';
export * from './write-nifti.js';
