export * from './problems.js';
export * from './check-volumes.js';
export * from './validate-dataset.js';
export * from './read-for-check.js';
