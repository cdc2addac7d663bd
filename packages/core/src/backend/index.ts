export * from './select-backend.js';
export * from './test-backend.js';
export * from './fused-norm-kernels.js';
export * from './softmax-kernels.js';
