/**
 * The browser-safe part of @voxseg/core (no `node:` imports): what in-browser inference needs.
 * Bundlers that honour the `browser` export condition (esbuild, Vite, webpack) resolve
 * `@voxseg/core` to this entry, so the sliding window a page runs is the one Node runs.
 * @packageDocumentation
 */
export * from './random/rng.js';
export * from './volume/types.js';
export * from './volume/index.js';
export * from './inference/index.js';
export type * from './events/types.js';
export type * from './contracts/dataset.js';
export * from './backend/fused-norm-kernels.js';
export * from './backend/softmax-kernels.js';
