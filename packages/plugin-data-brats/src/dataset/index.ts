export * from './layout.js';
export * from './discover-cases.js';
export * from './read-case.js';
export * from './brats-dataset.js';
export * from './case-from-files.js';
