import cliProgress from 'cli-progress';

/** What progress is written to: a stream, and whether it is a terminal. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * - `auto`: a live bar when the stream is a TTY, plain periodic lines otherwise (CI, files, pipes).
 * - `bar` / `plain`: force one of them.
 * - `off`: print nothing.
 */
export type ProgressMode = 'auto' | 'bar' | 'plain' | 'off';

export interface ProgressOptions {
  /** Shown first on the line, e.g. `epoch 3/50` or `predict`. */
  label: string;
  /** Units of work in total (iterations, cases, windows). */
  total: number;
  /** Name of a unit, shown after the counts (e.g. `cases`). Default: none. */
  unit?: string;
  /**
   * Where to write. Default: `process.stderr`, so stdout keeps only results (tables, the one
   * `--json` object) while the terminal still shows the bar.
   */
  stream?: ProgressStream;
  /** Default: `VOXSEG_PROGRESS` from the environment, else `auto`. */
  mode?: ProgressMode;
  /** Plain mode: at most one line per this many milliseconds (the first and last always print). Default 10 000. */
  intervalMs?: number;
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number;
}

/** A running progress report. Every method is cheap to call per unit of work. */
export interface Progress {
  /** Set the number of units done (and an optional short status, e.g. `loss 0.41`). */
  update(done: number, status?: string): void;
  /** Add `step` (default 1) units done. */
  increment(step?: number, status?: string): void;
  /** Print a full line without breaking the bar (use instead of writing to the stream directly). */
  log(line: string): void;
  /** Finish: the bar stays on screen at its last value; plain mode prints a final line unless it would repeat the last one. Idempotent. */
  stop(status?: string): void;
}

/** `1h02m`, `3m05s`, `42s`: compact, fixed order, for ETA and elapsed time. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/**
 * Start a progress report: a cli-progress bar with percentage, counts, elapsed time and ETA
 * on a terminal; otherwise one plain line every `intervalMs`
 * (`predict 30/120 cases (25%) elapsed 1m02s ETA 3m06s | BraTS2021_00012`).
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = resolveMode(options.mode, stream);
  const total = Math.max(0, options.total);
  if (mode === 'off') return { update() {}, increment() {}, log() {}, stop() {} };
  return mode === 'bar' ? barProgress(options, stream, total) : plainProgress(options, stream, total);
}

function resolveMode(mode: ProgressMode | undefined, stream: ProgressStream): Exclude<ProgressMode, 'auto'> {
  const env = process.env.VOXSEG_PROGRESS;
  const chosen = mode ?? (env === 'bar' || env === 'plain' || env === 'off' ? env : 'auto');
  if (chosen !== 'auto') return chosen;
  return stream.isTTY ? 'bar' : 'plain';
}

function barProgress(options: ProgressOptions, stream: ProgressStream, total: number): Progress {
  const unit = options.unit ? ` ${options.unit}` : '';
  const bar = new cliProgress.SingleBar(
    {
      format: `${options.label} [{bar}] {percentage}% | {value}/{total}${unit} | {duration_formatted} | ETA {eta_formatted} {status}`,
      stream: stream as NodeJS.WritableStream,
      hideCursor: false,
      barsize: 30,
      etaBuffer: 20,
      // Redraws happen on update; a low fps keeps the overhead negligible in tight loops.
      fps: 5,
      forceRedraw: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  let stopped = false;
  bar.start(total, 0, { status: '' });
  const status = (s?: string) => ({ status: s ? `| ${s}` : '' });
  return {
    update(value, s) {
      if (stopped) return;
      done = value;
      bar.update(done, status(s));
    },
    increment(step = 1, s) {
      this.update(done + step, s);
    },
    log(line) {
      // Clear the bar's line, print, and let the next update redraw the bar below.
      stream.write(`\r\x1b[2K${line}\n`);
      if (!stopped) bar.update(done);
    },
    stop(s) {
      if (stopped) return;
      if (s !== undefined) bar.update(done, status(s));
      bar.stop();
      stopped = true;
    },
  };
}

function plainProgress(options: ProgressOptions, stream: ProgressStream, total: number): Progress {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 10_000;
  const unit = options.unit ? ` ${options.unit}` : '';
  const start = now();
  let done = 0;
  let lastPrinted = -Infinity;
  let lastStatus: string | undefined;
  let printedState = '';
  let stopped = false;
  const line = () => {
    const elapsed = now() - start;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const eta = done > 0 && total > 0 ? (elapsed / done) * Math.max(0, total - done) : Number.NaN;
    const etaText = done >= total ? '' : ` ETA ${formatDuration(eta)}`;
    return `${options.label} ${done}/${total}${unit} (${pct}%) elapsed ${formatDuration(elapsed)}${etaText}${lastStatus ? ` | ${lastStatus}` : ''}\n`;
  };
  const maybePrint = (force: boolean) => {
    const t = now();
    if (!force && t - lastPrinted < interval) return;
    const state = `${done}|${lastStatus ?? ''}`;
    // A forced line (the final one) that would repeat the last printed state adds nothing.
    if (force && state === printedState) return;
    lastPrinted = t;
    printedState = state;
    stream.write(line());
  };
  return {
    update(value, s) {
      if (stopped) return;
      done = value;
      if (s !== undefined) lastStatus = s;
      maybePrint(lastPrinted === -Infinity);
    },
    increment(step = 1, s) {
      this.update(done + step, s);
    },
    log(text) {
      stream.write(`${text}\n`);
    },
    stop(s) {
      if (stopped) return;
      if (s !== undefined) lastStatus = s;
      maybePrint(true);
      stopped = true;
    },
  };
}
