export * from './overlap.js';
export * from './surface.js';
export * from './distance-transform.js';
export * from './percentile.js';
export * from './hausdorff.js';
export * from './regions.js';
export * from './factories.js';
