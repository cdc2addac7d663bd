/**
 * What the engine reports to, supplied by its caller (the CLI prints and draws bars; a library
 * user may pass nothing). The engine itself never writes to stdout or stderr.
 */
export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** A progress display for one long operation (the CLI's bar). */
export interface ProgressHandle {
  /** Set the number done (and a status text). */
  update(done: number, status?: string): void;
  /** Add `n` done (and a status text). */
  increment(n: number, status?: string): void;
  stop(): void;
}

/** Creates a {@link ProgressHandle} for an operation of `total` units. */
export type ProgressFactory = (o: { label: string; total: number; unit: string }) => ProgressHandle;

/** Where an engine operation reports. Both are optional: silent by default. */
export interface EngineHost {
  logger?: EngineLogger;
  progress?: ProgressFactory;
}

const noop = () => undefined;
/** A logger that drops everything. */
export const silentLogger: EngineLogger = { info: noop, warn: noop, debug: noop };
/** A progress factory that shows nothing. */
export const noProgress: ProgressFactory = () => ({ update: noop, increment: noop, stop: noop });
