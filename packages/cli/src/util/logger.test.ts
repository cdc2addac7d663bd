import { describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel, type LogLevel } from './logger.js';

function capture(level: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger({ level, stream: { write: (s: string) => lines.push(s) }, timestamps: false });
  return { logger, lines };
}

describe('createLogger', () => {
  it('filters by level and tags non-info lines', () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    logger.info('loaded 3 cases');
    logger.warn('slow backend');
    logger.error('bad file');
    expect(lines).toEqual(['loaded 3 cases\n', 'warn: slow backend\n', 'error: bad file\n']);
  });

  it('keeps one message on one logical line (continuations indented)', () => {
    const { logger, lines } = capture('debug');
    logger.debug('a\nb');
    expect(lines).toEqual(['debug: a\n  b\n']);
  });

  it('silent prints nothing; timestamps are ISO', () => {
    const { logger, lines } = capture('silent');
    logger.error('x');
    expect(lines).toEqual([]);
    const out: string[] = [];
    createLogger({ level: 'info', timestamps: true, now: () => new Date(0), stream: { write: (s: string) => out.push(s) } }).info('t');
    expect(out).toEqual(['1970-01-01T00:00:00.000Z t\n']);
  });

  it('parses levels and rejects unknown ones naming the source', () => {
    expect(parseLogLevel('WARN')).toBe('warn');
    expect(() => parseLogLevel('loud', 'VOXSEG_LOG_LEVEL')).toThrow('VOXSEG_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"');
  });
});
