export * from './atomic-dir.js';
export * from './model-files.js';
export * from './ensure-dir.js';
export * from './atomic-file.js';
export * from './fs-error.js';
export * from './run-lock.js';
