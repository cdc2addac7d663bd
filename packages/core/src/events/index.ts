export * from './types.js';
export * from './guarded-observable.js';
export * from './event-bus.js';
export * from './operators.js';
export * from './jsonl-writer.js';
