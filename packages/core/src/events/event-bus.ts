import { Subject, type Observable } from 'rxjs';
import { GuardedObservable, type SubscriberErrorHandler } from './guarded-observable.js';
import type { EventBase, TrainerCommand, TrainingEvent, TrainingEventMap, TrainingEventType } from './types.js';

/** Where the bus reports subscriber exceptions in words. Any console-like logger fits. */
export interface EventLogger {
  warn(message: string): void;
}

/** The fields of every event that the producer (the trainer) keeps current. */
export type EventContext = Pick<EventBase, 'runId' | 'epoch' | 'iteration'>;

export interface EventBusOptions {
  /** Initial context; defaults to `{ runId: '', epoch: 0, iteration: 0 }`. */
  context?: Partial<EventContext>;
  /** Receives one line per subscriber exception. Default: `console` (its `warn`). */
  logger?: EventLogger;
  /** Clock for `timestamp` (ms since the Unix epoch). Default: `Date.now`; tests pass a fake. */
  now?: () => number;
}

/**
 * The training event stream and the command channel, owned by one trainer (one run).
 *
 * Producer side (the trainer):
 * - {@link EventBus.setContext} whenever epoch or iteration changes;
 * - {@link EventBus.emit}`(type, payload)`: stamps `runId`, `epoch`, `iteration` and
 *   `timestamp` from the context and delivers the event synchronously to every subscriber,
 *   in subscription order;
 * - {@link EventBus.takeCommands} between iterations: drains the commands users sent;
 * - {@link EventBus.complete} once after `runEnd`: subscribers get `complete`.
 *
 * Consumer side (users, the CLI, the events.jsonl writer):
 * - {@link EventBus.events$}: an Observable (never the Subject: nobody but the trainer can
 *   emit). Pipe it through {@link ofType} / {@link every} and any RxJS operator.
 * - {@link EventBus.send} or the helpers {@link EventBus.stop},
 *   {@link EventBus.setLearningRate}, {@link EventBus.saveCheckpoint}.
 *
 * Subscriber exceptions: a handler that throws (in `next`, `error` or `complete`, directly on
 * `events$` or on any piped observable) is caught; the bus logs one line through `logger.warn`
 * and emits `error { source: 'subscriber', fatal: false }` to every subscriber, after the
 * current event has reached all of them. The run goes on; the failing subscriber stays
 * subscribed (a subscriber that wants to stop should unsubscribe). An exception thrown while
 * handling such a subscriber `error` event is only logged, never re-emitted, so a handler that
 * throws on every event cannot loop.
 *
 * Ordering: events are delivered in emission order. An event emitted from inside a
 * subscriber (re-entrantly) is queued and delivered after the current one has reached every
 * subscriber, so all subscribers see the same order.
 */
export class EventBus {
  /** Every training event of the run, in order. See `TrainingEventMap` for payloads. */
  readonly events$: Observable<TrainingEvent>;
  /** Every command sent, as it is sent (for logging or UIs; the trainer uses {@link takeCommands}). */
  readonly commands$: Observable<TrainerCommand>;

  private readonly subject = new Subject<TrainingEvent>();
  private readonly commandSubject = new Subject<TrainerCommand>();
  private readonly pendingCommands: TrainerCommand[] = [];
  private readonly queue: TrainingEvent[] = [];
  private delivering = false;
  private deliveringSubscriberError = false;
  private completed = false;
  private ctx: EventContext;
  private readonly logger: EventLogger;
  private readonly now: () => number;
  private readonly guardHandler: SubscriberErrorHandler;

  constructor(options: EventBusOptions = {}) {
    this.ctx = { runId: '', epoch: 0, iteration: 0, ...options.context };
    this.logger = options.logger ?? console;
    this.now = options.now ?? Date.now;
    this.guardHandler = (error, phase) => this.reportSubscriberError(error, phase);
    const subject = this.subject;
    const commands = this.commandSubject;
    this.events$ = new GuardedObservable<TrainingEvent>(this.guardHandler, (subscriber) => subject.subscribe(subscriber));
    this.commands$ = new GuardedObservable<TrainerCommand>(this.guardHandler, (subscriber) => commands.subscribe(subscriber));
  }

  /** The current context (a copy). */
  get context(): EventContext {
    return { ...this.ctx };
  }

  /** Update the context stamped on the next events (e.g. `{ epoch: 3, iteration: 0 }`). */
  setContext(patch: Partial<EventContext>): void {
    this.ctx = { ...this.ctx, ...patch };
  }

  /** True once {@link complete} was called. */
  get isCompleted(): boolean {
    return this.completed;
  }

  /**
   * Emit an event of `type`: `{ type, runId, epoch, iteration, timestamp, ...payload }`.
   * Returns the event as delivered. After {@link complete} the event is dropped (and logged),
   * since nobody can receive it.
   *
   * @param payload plain data (numbers, strings, arrays, records): never tensors.
   */
  emit<K extends TrainingEventType>(type: K, payload: TrainingEventMap[K]): TrainingEvent<K> {
    const event = {
      type,
      runId: this.ctx.runId,
      epoch: this.ctx.epoch,
      iteration: this.ctx.iteration,
      timestamp: this.now(),
      ...payload,
    } as unknown as TrainingEvent<K>;
    if (this.completed) {
      this.safeLog(`voxseg: event "${type}" emitted after the event stream completed; dropped`);
      return event;
    }
    this.queue.push(event as unknown as TrainingEvent);
    this.drain();
    return event;
  }

  /**
   * End the stream: subscribers get `complete` (the JSONL writer closes its file). Call once,
   * after `runEnd`. Later `emit` calls are dropped; `send` still queues commands.
   */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.drain();
    this.subject.complete();
    this.commandSubject.complete();
  }

  /**
   * Send a command to the trainer. It takes effect between iterations (see
   * {@link TrainerCommand} for each command's exact semantics).
   * @throws RangeError for a malformed command (e.g. a learning rate that is not a positive finite number).
   */
  send(command: TrainerCommand): void {
    validateCommand(command);
    this.pendingCommands.push(command);
    if (!this.completed) this.commandSubject.next(command);
  }

  /** Ask the trainer to stop after the current iteration (`runEnd { reason: 'stopped' }`). */
  stop(reason?: string): void {
    this.send(reason === undefined ? { type: 'stop' } : { type: 'stop', reason });
  }

  /** Ask the trainer to use `lr` from the next iteration on. */
  setLearningRate(lr: number, persistent = false): void {
    this.send({ type: 'setLearningRate', lr, persistent });
  }

  /** Ask the trainer to write a `manual` checkpoint after the current iteration. */
  saveCheckpoint(): void {
    this.send({ type: 'saveCheckpoint' });
  }

  /**
   * For the trainer: every command sent since the last call, oldest first, and forget them.
   * Call between iterations.
   */
  takeCommands(): TrainerCommand[] {
    return this.pendingCommands.splice(0, this.pendingCommands.length);
  }

  /**
   * Protect subscribers of an observable built without `lift` (a hand-written operator) the
   * same way `events$` is protected: their exceptions become `error` events.
   */
  guard<T>(source: Observable<T>): Observable<T> {
    return GuardedObservable.guard(source, this.guardHandler);
  }

  /** Deliver queued events one at a time; re-entrant emits wait for the current delivery. */
  private drain(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let event = this.queue.shift(); event; event = this.queue.shift()) {
        const isSubscriberError = event.type === 'error' && event.source === 'subscriber';
        this.deliveringSubscriberError = isSubscriberError;
        try {
          this.subject.next(event);
        } finally {
          this.deliveringSubscriberError = false;
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private reportSubscriberError(error: unknown, phase: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const where = phase === 'unhandled' ? 'an event pipeline raised an error nobody handled' : `an event subscriber threw in ${phase}`;
    this.safeLog(`voxseg: ${where}: ${message}${error instanceof Error && error.stack ? `\n${error.stack}` : ''}`);
    // A handler failing on a subscriber-error event must not produce another one (no loop).
    if (this.deliveringSubscriberError || this.completed) return;
    this.queue.push({
      type: 'error',
      runId: this.ctx.runId,
      epoch: this.ctx.epoch,
      iteration: this.ctx.iteration,
      timestamp: this.now(),
      message: `${where}: ${message}`,
      source: 'subscriber',
      fatal: false,
    });
    this.drain();
  }

  private safeLog(line: string): void {
    try {
      this.logger.warn(line);
    } catch {
      // The logger itself failed; nothing sensible is left but stderr, which must not throw.
      try {
        process.stderr.write(`${line}\n`);
      } catch {
        /* give up silently only when even stderr is gone */
      }
    }
  }
}

function validateCommand(command: TrainerCommand): void {
  parseTrainerCommand(command);
}

/**
 * Check that `value` is a well-formed {@link TrainerCommand} (from JSON, another process, a
 * page) and return it with only the fields the command defines (`type`, its own fields, and
 * `id` when it is a string).
 * @throws RangeError naming what is wrong (an unknown type, a learning rate that is not a
 *   positive finite number, a reason or persistent flag of the wrong type)
 */
export function parseTrainerCommand(value: unknown): TrainerCommand {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new RangeError(`a trainer command must be an object, got ${JSON.stringify(value) ?? String(value)}`);
  const c = value as Record<string, unknown>;
  if (c.id !== undefined && typeof c.id !== 'string') throw new RangeError(`command id must be a string, got ${JSON.stringify(c.id)}`);
  const id = typeof c.id === 'string' ? { id: c.id } : {};
  switch (c.type) {
    case 'stop':
      if (c.reason !== undefined && typeof c.reason !== 'string') throw new RangeError(`stop: reason must be a string, got ${JSON.stringify(c.reason)}`);
      return { type: 'stop', ...(typeof c.reason === 'string' ? { reason: c.reason } : {}), ...id };
    case 'saveCheckpoint':
      return { type: 'saveCheckpoint', ...id };
    case 'setLearningRate':
      if (typeof c.lr !== 'number' || !Number.isFinite(c.lr) || c.lr <= 0) {
        throw new RangeError(`setLearningRate: lr must be a positive finite number, got ${String(c.lr)}`);
      }
      if (c.persistent !== undefined && typeof c.persistent !== 'boolean') throw new RangeError(`setLearningRate: persistent must be true or false, got ${JSON.stringify(c.persistent)}`);
      return { type: 'setLearningRate', lr: c.lr, ...(c.persistent !== undefined ? { persistent: c.persistent as boolean } : {}), ...id };
    default:
      throw new RangeError(`Unknown trainer command ${JSON.stringify(c.type)}; expected stop, setLearningRate or saveCheckpoint`);
  }
}
