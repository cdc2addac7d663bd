export * from './numpy-random-state.js';
export * from './kfold.js';
