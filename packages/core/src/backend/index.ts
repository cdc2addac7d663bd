export * from './select-backend.js';
export * from './test-backend.js';
