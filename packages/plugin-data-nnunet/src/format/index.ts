export * from './dataset-json.js';
export * from './case-files.js';
export * from './detect.js';
