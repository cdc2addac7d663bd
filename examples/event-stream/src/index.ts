export * from './run-example.js';
export * from './example-plugin.js';
export * from './toy-data.js';
