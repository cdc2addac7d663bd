import { Observable, Subject, map, take, toArray, firstValueFrom } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type EventLogger } from './event-bus.js';
import { every, ofType } from './operators.js';
import type { TrainingEvent, TrainingEventType } from './types.js';

/** A logger that records lines, so tests can assert an exception was logged, not swallowed. */
function recordingLogger(): EventLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (line: string) => void lines.push(line) };
}

function newBus() {
  const logger = recordingLogger();
  let t = 1000;
  const bus = new EventBus({ logger, now: () => t++, context: { runId: 'run-1' } });
  return { bus, logger };
}

const batch = (loss: number) => ({ loss, lr: 0.01, ms: 5 });

// RxJS reports consumer errors it catches by rethrowing them from a setTimeout; in Node
// that is an uncaughtException. Record any, so a test fails if an error escaped the bus.
let escaped: unknown[] = [];
const onUncaught = (err: unknown) => void escaped.push(err);
beforeEach(() => {
  escaped = [];
  process.on('uncaughtException', onUncaught);
});
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 5)); // let any RxJS-scheduled rethrow fire
  process.off('uncaughtException', onUncaught);
  expect(escaped).toEqual([]);
});

describe('EventBus', () => {
  it('stamps runId, epoch, iteration and timestamp from the context', () => {
    const { bus } = newBus();
    const seen: TrainingEvent[] = [];
    bus.events$.subscribe((e) => seen.push(e));
    bus.setContext({ epoch: 2, iteration: 7 });
    const returned = bus.emit('batchEnd', batch(0.5));
    expect(seen).toEqual([{ type: 'batchEnd', runId: 'run-1', epoch: 2, iteration: 7, timestamp: 1000, loss: 0.5, lr: 0.01, ms: 5 }]);
    expect(returned).toEqual(seen[0]);
    expect(bus.context).toEqual({ runId: 'run-1', epoch: 2, iteration: 7 });
  });

  it('delivers events in emission order to every subscriber, in subscription order', () => {
    const { bus } = newBus();
    const log: string[] = [];
    bus.events$.subscribe((e) => log.push(`a:${e.type}`));
    bus.events$.subscribe((e) => log.push(`b:${e.type}`));
    bus.emit('epochStart', { lr: 0.01 });
    bus.emit('batchEnd', batch(1));
    expect(log).toEqual(['a:epochStart', 'b:epochStart', 'a:batchEnd', 'b:batchEnd']);
  });

  it('queues an event emitted from inside a subscriber until the current one reached everyone', () => {
    const { bus } = newBus();
    const log: string[] = [];
    bus.events$.subscribe((e) => {
      log.push(`a:${e.type}`);
      if (e.type === 'epochStart') bus.emit('batchEnd', batch(1));
    });
    bus.events$.subscribe((e) => log.push(`b:${e.type}`));
    bus.emit('epochStart', { lr: 0.01 });
    expect(log).toEqual(['a:epochStart', 'b:epochStart', 'a:batchEnd', 'b:batchEnd']);
  });

  it('exposes an Observable, never the Subject', () => {
    const { bus } = newBus();
    expect(bus.events$).toBeInstanceOf(Observable);
    expect(bus.events$).not.toBeInstanceOf(Subject);
    expect((bus.events$ as unknown as { next?: unknown }).next).toBeUndefined();
    expect((bus.commands$ as unknown as { next?: unknown }).next).toBeUndefined();
  });

  it('completes subscribers on complete() and drops later events with a log line', () => {
    const { bus, logger } = newBus();
    let completed = 0;
    const seen: string[] = [];
    bus.events$.subscribe({ next: (e) => seen.push(e.type), complete: () => completed++ });
    bus.emit('runEnd', { reason: 'completed', epochsCompleted: 1, ms: 1 });
    bus.complete();
    bus.complete();
    bus.emit('batchEnd', batch(1));
    expect(seen).toEqual(['runEnd']);
    expect(completed).toBe(1);
    expect(bus.isCompleted).toBe(true);
    expect(logger.lines.some((l) => l.includes('"batchEnd" emitted after the event stream completed'))).toBe(true);
  });
});

describe('operators', () => {
  it('ofType keeps only the named types, narrowed', () => {
    const { bus } = newBus();
    const losses: number[] = [];
    const types: TrainingEventType[] = [];
    bus.events$.pipe(ofType('batchEnd')).subscribe((e) => losses.push(e.loss));
    bus.events$.pipe(ofType('epochStart', 'runEnd')).subscribe((e) => types.push(e.type));
    bus.emit('epochStart', { lr: 0.1 });
    bus.emit('batchEnd', batch(3));
    bus.emit('batchEnd', batch(2));
    bus.emit('runEnd', { reason: 'stopped', epochsCompleted: 0, ms: 1 });
    expect(losses).toEqual([3, 2]);
    expect(types).toEqual(['epochStart', 'runEnd']);
  });

  it('every(n) passes the n-th, 2n-th, ... value, counting per subscription', async () => {
    const { bus } = newBus();
    const got = firstValueFrom(bus.events$.pipe(ofType('batchEnd'), every(3), map((e) => e.loss), take(2), toArray()));
    const all: number[] = [];
    for (let i = 1; i <= 7; i++) {
      if (i === 4) bus.events$.pipe(ofType('batchEnd'), every(2)).subscribe((e) => all.push(e.loss)); // late subscriber
      bus.emit('epochStart', { lr: 0 });
      bus.emit('batchEnd', batch(i));
    }
    expect(await got).toEqual([3, 6]);
    expect(all).toEqual([5, 7]);
    expect(() => every(0)).toThrow(/positive integer/);
    expect(() => every(1.5)).toThrow(/positive integer/);
  });
});

describe('subscriber exceptions', () => {
  it('a throwing subscriber becomes an error event and a log line; the others and the run go on', () => {
    const { bus, logger } = newBus();
    const seen: TrainingEvent[] = [];
    bus.events$.subscribe((e) => {
      if (e.type === 'batchEnd' && e.loss === 2) throw new Error('boom in my plot');
    });
    bus.events$.subscribe((e) => seen.push(e));
    bus.setContext({ epoch: 1, iteration: 4 });
    for (const loss of [1, 2, 3]) bus.emit('batchEnd', batch(loss));
    expect(seen.map((e) => (e.type === 'batchEnd' ? `batchEnd:${e.loss}` : e.type))).toEqual([
      'batchEnd:1',
      'batchEnd:2',
      'error',
      'batchEnd:3',
    ]);
    const err = seen[2] as TrainingEvent<'error'>;
    expect(err).toMatchObject({ source: 'subscriber', fatal: false, runId: 'run-1', epoch: 1, iteration: 4 });
    expect(err.message).toContain('boom in my plot');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('boom in my plot');
  });

  it('guards subscribers of piped observables too', () => {
    const { bus, logger } = newBus();
    const errors: TrainingEvent<'error'>[] = [];
    bus.events$.pipe(ofType('error')).subscribe((e) => errors.push(e));
    bus.events$.pipe(ofType('batchEnd'), every(1)).subscribe(() => {
      throw new Error('piped subscriber failed');
    });
    // An operator that throws errors the pipeline; the subscriber has no error handler.
    bus.events$.pipe(map((e) => {
      if (e.type === 'epochStart') throw new Error('map failed');
      return e;
    })).subscribe(() => {});
    bus.emit('epochStart', { lr: 0.01 });
    bus.emit('batchEnd', batch(1));
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('map failed'),
      expect.stringContaining('piped subscriber failed'),
    ]);
    expect(logger.lines).toHaveLength(2);
  });

  it('catches exceptions in complete and error handlers', () => {
    const { bus, logger } = newBus();
    bus.events$.subscribe({ complete: () => { throw new Error('complete failed'); } });
    bus.events$.pipe(map(() => { throw new Error('op failed'); })).subscribe({ error: () => { throw new Error('error handler failed'); } });
    bus.emit('epochStart', { lr: 0.01 });
    bus.complete();
    expect(logger.lines.join('\n')).toContain('error handler failed');
    expect(logger.lines.join('\n')).toContain('complete failed');
  });

  it('does not loop when a handler throws on every event, including the error events', () => {
    const { bus, logger } = newBus();
    const seen: string[] = [];
    bus.events$.subscribe(() => {
      throw new Error('always');
    });
    bus.events$.subscribe((e) => seen.push(e.type));
    bus.emit('batchEnd', batch(1));
    bus.emit('batchEnd', batch(2));
    expect(seen).toEqual(['batchEnd', 'error', 'batchEnd', 'error']);
    // one line per batchEnd failure, one per failure on the error event (logged, not re-emitted)
    expect(logger.lines).toHaveLength(4);
  });

  it('survives a logger that throws', () => {
    const bus = new EventBus({ logger: { warn: () => { throw new Error('logger down'); } } });
    const seen: string[] = [];
    bus.events$.subscribe(() => {
      throw new Error('x');
    });
    bus.events$.subscribe((e) => seen.push(e.type));
    const write = process.stderr.write;
    const stderr: string[] = [];
    process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      bus.emit('batchEnd', batch(1));
    } finally {
      process.stderr.write = write;
    }
    expect(seen).toEqual(['batchEnd', 'error']);
    expect(stderr.join('')).toContain('x');
  });

  it('guard() protects observables built by hand-written operators', () => {
    const { bus, logger } = newBus();
    const handMade = new Observable<TrainingEvent>((sub) => bus.events$.subscribe({ next: (e) => sub.next(e) }));
    bus.guard(handMade).subscribe(() => {
      throw new Error('hand-made');
    });
    bus.emit('batchEnd', batch(1));
    expect(logger.lines[0]).toContain('hand-made');
  });

  it('unsubscribing a piped subscriber detaches it from the bus', () => {
    const { bus } = newBus();
    const seen: number[] = [];
    const sub = bus.events$.pipe(ofType('batchEnd')).subscribe((e) => seen.push(e.loss));
    bus.emit('batchEnd', batch(1));
    sub.unsubscribe();
    bus.emit('batchEnd', batch(2));
    expect(seen).toEqual([1]);
    // No observer is left on the internal subject.
    expect((bus as unknown as { subject: Subject<unknown> }).subject.observed).toBe(false);
  });
});

describe('commands', () => {
  it('queues commands for the trainer in order and publishes them on commands$', () => {
    const { bus } = newBus();
    const published: string[] = [];
    bus.commands$.subscribe((c) => published.push(c.type));
    bus.setLearningRate(0.005);
    bus.saveCheckpoint();
    bus.stop('user pressed q');
    expect(bus.takeCommands()).toEqual([
      { type: 'setLearningRate', lr: 0.005, persistent: false },
      { type: 'saveCheckpoint' },
      { type: 'stop', reason: 'user pressed q' },
    ]);
    expect(bus.takeCommands()).toEqual([]);
    expect(published).toEqual(['setLearningRate', 'saveCheckpoint', 'stop']);
  });

  it('a subscriber can stop the run from an event handler', () => {
    const { bus } = newBus();
    bus.events$.pipe(ofType('batchEnd')).subscribe((e) => {
      if (e.loss < 0.1) bus.stop('converged');
    });
    bus.emit('batchEnd', batch(0.5));
    expect(bus.takeCommands()).toEqual([]);
    bus.emit('batchEnd', batch(0.05));
    expect(bus.takeCommands()).toEqual([{ type: 'stop', reason: 'converged' }]);
  });

  it('rejects malformed commands with a clear message', () => {
    const { bus } = newBus();
    expect(() => bus.setLearningRate(Number.NaN)).toThrow(/lr must be a positive finite number, got NaN/);
    expect(() => bus.setLearningRate(-1)).toThrow(/got -1/);
    expect(() => bus.send({ type: 'pause' } as never)).toThrow(/Unknown trainer command "pause"/);
    expect(bus.takeCommands()).toEqual([]);
  });
});
