export * from './voxel-array.js';
export * from './crop.js';
export * from './pad.js';
export * from './bounding-box.js';
export * from './flip.js';
export * from './resample.js';
export * from './round-half-even.js';
export * from './channels.js';
