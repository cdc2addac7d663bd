export * from './sgd.js';
export * from './clip-grad-norm.js';
export * from './poly-scheduler.js';
export * from './pseudo-dice.js';
export * from './checkpoint.js';
export * from './trainer-config.js';
export * from './trainer.js';
export * from './commands-file.js';
