export * from './nonzero-mask.js';
export * from './zscore.js';
export * from './preprocess-case.js';
export * from './case-cache.js';
