/** Severity levels, least to most severe. `silent` prints nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * The CLI's logger. Diagnostics go to stderr so stdout carries only results (tables, and the
 * single JSON object of `--json`). One message = one line: multi-line messages are indented
 * after the first line so a log stays greppable. It also satisfies core's `EventLogger`, so it
 * can be handed to the event bus.
 */
export interface Logger {
  readonly level: LogLevel;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LoggerOptions {
  /** Minimum level printed. Default: `VOXSEG_LOG_LEVEL` from the environment, else `info`. */
  level?: LogLevel;
  /** Where lines go. Default: `process.stderr`. */
  stream?: { write(chunk: string): unknown };
  /** Prefix each line with an ISO timestamp (useful for long runs in files). Default: false. */
  timestamps?: boolean;
  /** Clock for timestamps (tests). Default: `() => new Date()`. */
  now?: () => Date;
}

/** Parse a level name (case-insensitive); throws a one-line error naming the accepted values. */
export function parseLogLevel(value: string, source = 'log level'): LogLevel {
  const v = value.toLowerCase();
  if (v in RANK) return v as LogLevel;
  throw new Error(`${source}: expected one of ${Object.keys(RANK).join(', ')}, got "${value}"`);
}

/** Create a {@link Logger}. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.VOXSEG_LOG_LEVEL;
  const level = options.level ?? (envLevel ? parseLogLevel(envLevel, 'VOXSEG_LOG_LEVEL') : 'info');
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const write = (lvl: Exclude<LogLevel, 'silent'>, message: string) => {
    if (RANK[lvl] < RANK[level]) return;
    const tag = lvl === 'info' ? '' : `${lvl}: `;
    const stamp = options.timestamps ? `${now().toISOString()} ` : '';
    stream.write(`${stamp}${tag}${message.replace(/\n/g, '\n  ')}\n`);
  };
  return {
    level,
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
