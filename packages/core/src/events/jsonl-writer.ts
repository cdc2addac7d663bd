import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { ensureDirSync } from '../io/ensure-dir.js';
import { dirname } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { TrainingEvent } from './types.js';

export interface EventsJsonlWriter {
  /** The file written to. */
  readonly path: string;
  /** Events written so far by this writer. */
  readonly written: number;
  /** Unsubscribe, fsync and close the file. Idempotent. */
  close(): void;
}

export interface EventsJsonlOptions {
  /**
   * Event types after which the file is fsync'ed to disk (each line is always handed to the
   * OS immediately, so a crash of the process loses nothing; fsync also protects against a
   * machine crash). Default: `checkpointSaved`, `runEnd`, `error`.
   */
  fsyncOn?: readonly string[];
}

/**
 * Append every event of `events$` to `path` as one JSON object per line (`events.jsonl`).
 *
 * - Appends: a resumed run continues the same file. If the previous process died in the
 *   middle of a line, a newline is written first so that torn line stays alone and every new
 *   line parses ({@link readEventsJsonl} skips the torn one).
 * - Flushes: each line is written with a synchronous `write(2)` (no user-space buffer), and
 *   fsync'ed after the event types in `fsyncOn`.
 * - Non-finite numbers (a NaN loss) are written as `null`, as `JSON.stringify` does.
 * - Closes the file when the stream completes or errors, or on {@link EventsJsonlWriter.close}.
 *
 * A write failure (disk full, ...) is thrown from the subscriber once, so the event bus
 * reports it as an `error { source: 'subscriber' }` event; the writer then closes itself
 * rather than failing again on every event.
 */
export function writeEventsJsonl(events$: Observable<TrainingEvent>, path: string, options: EventsJsonlOptions = {}): EventsJsonlWriter {
  const fsyncOn = new Set(options.fsyncOn ?? ['checkpointSaved', 'runEnd', 'error']);
  ensureDirSync(dirname(path));
  let fd: number | null = openSync(path, 'a+');
  if (endsMidLine(fd)) writeSync(fd, '\n');
  let written = 0;
  let subscription: Subscription | undefined;

  const close = () => {
    subscription?.unsubscribe();
    if (fd === null) return;
    const f = fd;
    fd = null;
    try {
      fsyncSync(f);
    } finally {
      closeSync(f);
    }
  };

  subscription = events$.subscribe({
    next: (event) => {
      if (fd === null) return;
      try {
        writeSync(fd, `${JSON.stringify(event)}\n`);
        if (fsyncOn.has(event.type)) fsyncSync(fd);
        written++;
      } catch (err) {
        try {
          close();
        } catch {
          /* the original error is the one worth reporting */
        }
        throw new Error(`events.jsonl: cannot write ${path}: ${err instanceof Error ? err.message : String(err)}; no further events will be written`);
      }
    },
    error: () => close(),
    complete: () => close(),
  });
  // The stream may already have completed synchronously during subscribe.
  if (fd === null) subscription.unsubscribe();

  return {
    path,
    get written() {
      return written;
    },
    close,
  };
}

/** True when the file is non-empty and its last byte is not a newline. */
function endsMidLine(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

/**
 * Read an `events.jsonl` file: one event per non-empty line, in file order. A line that does
 * not parse (a line torn by a crash) is skipped and counted in `skipped`. A missing file
 * gives no events.
 */
export function readEventsJsonl(path: string): { events: TrainingEvent[]; skipped: number } {
  if (!existsSync(path)) return { events: [], skipped: 0 };
  const events: TrainingEvent[] = [];
  let skipped = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as TrainingEvent);
    } catch {
      skipped++;
    }
  }
  return { events, skipped };
}
