export * from './value-noise.js';
export * from './synthesize-case.js';
export * from './synthesize-dataset.js';
