export * from './sampling-grid.js';
export * from './interpolate.js';
export * from './foreground-index.js';
export * from './patch-sampler.js';
export * from './patch-batch-provider.js';
export * from './worker-batch-provider.js';
export * from './patch-sampler-factory.js';
