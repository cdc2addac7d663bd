// The guarded Observable class behind `events$` stays internal: users get it as an Observable
// and use `bus.guard(obs)` for hand-written operators.
export * from './types.js';
export type { SubscriberErrorHandler } from './guarded-observable.js';
export * from './event-bus.js';
export * from './operators.js';
export * from './jsonl-writer.js';
