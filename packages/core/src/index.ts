import 'reflect-metadata';

export * from './random/rng.js';
export * from './volume/types.js';
export * from './contracts/plugin.js';
export * from './contracts/factory.js';
export * from './contracts/dataset.js';
export * from './contracts/augmenter.js';
export * from './contracts/block.js';
export * from './contracts/loss.js';
export * from './contracts/scheduler.js';
export * from './contracts/metric.js';
export * from './contracts/network.js';
export * from './container/tokens.js';
export * from './container/registry.js';
export * from './container/experiment.js';
export * from './events/types.js';
