// Pure data code shared by the server's tests and the browser pages (bundled by esbuild):
// no node: imports, no DOM.

/** The fields of training events the dashboard reads (see `TrainingEventMap` in @voxseg/core). */
export interface EventRecord {
  type: string;
  runId?: string;
  epoch: number;
  iteration: number;
  timestamp: number;
  [field: string]: unknown;
}

/** One epoch's numbers, as nnU-Net's progress.png plots them. */
export interface EpochRow {
  epoch: number;
  trainLoss?: number;
  valLoss?: number;
  /** Per-region pseudo-Dice of the epoch's validation (WT, TC, ET). */
  dice: Record<string, number>;
  /** Per-region EMA of the pseudo-Dice (same alpha as the trainer's emaDice: 0.9). */
  diceEma: Record<string, number>;
  meanDice?: number;
  /** The trainer's EMA of the mean pseudo-Dice (its `best` criterion). */
  emaDice?: number;
  lr?: number;
  /** Wall time of the epoch, seconds. */
  seconds?: number;
  memory?: { tensors: number; bytes: number; rss?: number };
}

/** One training iteration. `x` is fractional epochs (epoch + (iteration + 1) / iterationsPerEpoch). */
export interface BatchPoint {
  x: number;
  loss: number;
  lr: number;
  ms: number;
}

/** Run-level facts from runStart / runEnd and the latest events. */
export interface RunMeta {
  runId?: string;
  backend?: string;
  network?: string;
  parameters?: number;
  epochs?: number;
  iterationsPerEpoch?: number;
  startEpoch?: number;
  resumed?: boolean;
  startedAt?: number;
  /** The runEnd reason once the run ended. */
  ended?: { reason: string; epochsCompleted: number; ms: number; message?: string };
  lastEventAt?: number;
  checkpoints: { kind: string; path: string; epoch: number; iteration: number }[];
  /** Commands acknowledged (`commandApplied`) or rejected, by id. */
  commands: Record<string, { status: 'applied' | 'rejected'; message?: string; type?: string }>;
  errors: string[];
}

const EMA_ALPHA = 0.9;

/**
 * Folds a run's event stream into what the pages draw. Feed it events in order with
 * {@link RunState.add}, as they arrive over server-sent events; every query is cheap.
 */
export class RunState {
  readonly meta: RunMeta = { checkpoints: [], commands: {}, errors: [] };
  readonly epochs: EpochRow[] = [];
  readonly batches: BatchPoint[] = [];
  /** The last {@link logLimit} events as one-line texts, for the log tail. */
  readonly log: string[] = [];
  private byEpoch = new Map<number, EpochRow>();

  constructor(private readonly logLimit = 300) {}

  /** Forget everything (the server restarted the stream: the file was replaced). */
  reset(): void {
    Object.assign(this.meta, { checkpoints: [], commands: {}, errors: [] });
    for (const k of Object.keys(this.meta) as (keyof RunMeta)[]) if (!['checkpoints', 'commands', 'errors'].includes(k)) delete this.meta[k];
    this.epochs.length = 0;
    this.batches.length = 0;
    this.log.length = 0;
    this.byEpoch.clear();
  }

  add(e: EventRecord): void {
    this.meta.lastEventAt = e.timestamp;
    if (e.type !== 'batchEnd') this.pushLog(e);
    switch (e.type) {
      case 'runStart':
        Object.assign(this.meta, {
          runId: e.runId,
          backend: str(e.backend),
          network: str(e.network),
          parameters: num(e.parameters),
          epochs: num(e.epochs),
          iterationsPerEpoch: num(e.iterationsPerEpoch),
          startEpoch: num(e.startEpoch),
          resumed: e.resumed === true,
          startedAt: e.timestamp,
        });
        delete this.meta.ended;
        break;
      case 'batchEnd': {
        const per = Math.max(1, this.meta.iterationsPerEpoch ?? 1);
        this.batches.push({ x: e.epoch + (e.iteration + 1) / per, loss: num(e.loss) ?? Number.NaN, lr: num(e.lr) ?? Number.NaN, ms: num(e.ms) ?? 0 });
        break;
      }
      case 'validationEnd': {
        // The EMA continues from the last epoch that had validation (computed before this row exists).
        const prev = this.lastEma(e.epoch);
        const row = this.row(e.epoch);
        row.valLoss = num(e.loss);
        const dice = (e.dice ?? {}) as Record<string, number | null>;
        for (const [region, d] of Object.entries(dice)) {
          if (typeof d !== 'number' || !Number.isFinite(d)) continue;
          row.dice[region] = d;
          const p = prev[region];
          row.diceEma[region] = p === undefined ? d : EMA_ALPHA * p + (1 - EMA_ALPHA) * d;
        }
        row.meanDice = num(e.meanDice);
        break;
      }
      case 'epochEnd': {
        const row = this.row(e.epoch);
        row.trainLoss = num(e.trainLoss);
        if (num(e.valLoss) !== undefined) row.valLoss = num(e.valLoss);
        if (num(e.meanDice) !== undefined) row.meanDice = num(e.meanDice);
        row.emaDice = num(e.emaDice);
        row.lr = num(e.lr);
        row.seconds = (num(e.ms) ?? 0) / 1000;
        if (e.memory && typeof e.memory === 'object') row.memory = e.memory as EpochRow['memory'];
        break;
      }
      case 'checkpointSaved':
        this.meta.checkpoints.push({ kind: String(e.kind), path: String(e.path), epoch: e.epoch, iteration: e.iteration });
        break;
      case 'commandApplied': {
        const command = (e.command ?? {}) as { type?: string };
        this.meta.commands[String(e.id)] = { status: 'applied', ...(command.type ? { type: command.type } : {}) };
        break;
      }
      case 'commandRejected':
        if (typeof e.id === 'string') this.meta.commands[e.id] = { status: 'rejected', message: String(e.message) };
        break;
      case 'error':
        this.meta.errors.push(String(e.message));
        break;
      case 'runEnd':
        this.meta.ended = { reason: String(e.reason), epochsCompleted: num(e.epochsCompleted) ?? 0, ms: num(e.ms) ?? 0, ...(typeof e.message === 'string' ? { message: e.message } : {}) };
        break;
      default:
        break;
    }
  }

  /** Iterations per second over the last `window` iterations (incl. waiting for data). */
  itPerSecond(window = 20): number | undefined {
    const recent = this.batches.slice(-window);
    const ms = recent.reduce((s, b) => s + b.ms, 0);
    return recent.length && ms > 0 ? (recent.length * 1000) / ms : undefined;
  }

  /**
   * Seconds left: remaining epochs x the mean wall time of the last 5 epochs (validation
   * included); during the first epoch, remaining iterations x the mean iteration time.
   */
  etaSeconds(): number | undefined {
    const { epochs, iterationsPerEpoch } = this.meta;
    if (this.meta.ended || !epochs || !iterationsPerEpoch) return undefined;
    const done = this.epochs.filter((r) => r.seconds !== undefined);
    const last = this.batches.at(-1);
    const position = last ? last.x : (this.meta.startEpoch ?? 0);
    const remainingEpochs = Math.max(0, epochs - position);
    if (done.length) {
      const recent = done.slice(-5);
      return remainingEpochs * (recent.reduce((s, r) => s + (r.seconds ?? 0), 0) / recent.length);
    }
    const it = this.itPerSecond();
    return it ? (remainingEpochs * iterationsPerEpoch) / it : undefined;
  }

  /** Region names seen in validation, in first-seen order (WT, TC, ET). */
  regions(): string[] {
    const seen = new Set<string>();
    for (const r of this.epochs) for (const k of Object.keys(r.dice)) seen.add(k);
    return [...seen];
  }

  /** The latest completed epoch's row. */
  lastEpoch(): EpochRow | undefined {
    return this.epochs.at(-1);
  }

  private lastEma(before: number): Record<string, number> {
    for (let i = this.epochs.length - 1; i >= 0; i--) {
      const r = this.epochs[i]!;
      if (r.epoch < before && Object.keys(r.diceEma).length) return r.diceEma;
    }
    return {};
  }

  private row(epoch: number): EpochRow {
    let r = this.byEpoch.get(epoch);
    if (!r) {
      r = { epoch, dice: {}, diceEma: {} };
      this.byEpoch.set(epoch, r);
      this.epochs.push(r);
      this.epochs.sort((a, b) => a.epoch - b.epoch);
    }
    return r;
  }

  private pushLog(e: EventRecord): void {
    this.log.push(formatEvent(e));
    if (this.log.length > this.logLimit) this.log.splice(0, this.log.length - this.logLimit);
  }
}

/** One readable line per event, for the log tail. */
export function formatEvent(e: EventRecord): string {
  const time = new Date(e.timestamp).toISOString().slice(11, 19);
  const { type, runId: _r, epoch, iteration, timestamp: _t, ...rest } = e;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'number' ? Number(fmt(x)) : x)) : String(v)}`)
    .join(' ');
  return `${time} [${epoch}.${iteration}] ${type} ${fields}`.trimEnd();
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * TensorBoard's scalar smoothing: a debiased exponential moving average with weight `w`
 * (0 = raw). Non-finite values are passed through without updating the average.
 */
export function smooth(values: readonly number[], w: number): number[] {
  if (w <= 0) return [...values];
  let last = 0;
  let steps = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    steps++;
    return last / (1 - Math.pow(w, steps));
  });
}

/** Mean and sample standard deviation of a list (std 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/**
 * Across the folds of a cv group: for each epoch and each field, the mean and standard
 * deviation over the folds that have reached that epoch (as W&B run groups show them).
 */
export function foldBand(folds: readonly EpochRow[][], pick: (r: EpochRow) => number | undefined): { epoch: number; mean: number; std: number; n: number }[] {
  const byEpoch = new Map<number, number[]>();
  for (const rows of folds) {
    for (const r of rows) {
      const v = pick(r);
      if (v === undefined || !Number.isFinite(v)) continue;
      const list = byEpoch.get(r.epoch) ?? [];
      list.push(v);
      byEpoch.set(r.epoch, list);
    }
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([epoch, vs]) => ({ epoch, ...meanStd(vs) }));
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
