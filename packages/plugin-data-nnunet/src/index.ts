export * from './format/index.js';
export * from './targets/nnunet-targets.js';
export * from './dataset/nnunet-dataset.js';
export * from './synthetic/synthesize-nnunet-dataset.js';
export * from './plugin.js';
export * from './dataset/folders.js';
