export * from './errors.js';
// The atomic write lives in core (one home); re-exported for existing importers.
export { writeFileAtomic } from '@voxseg/core';
export * from './nifti-datatypes.js';
export * from './nifti-header.js';
export * from './affine.js';
export * from './validate-nifti.js';
export * from './read-nifti.js';
export * from './write-nifti.js';
