import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from './event-bus.js';
import { readEventsJsonl, writeEventsJsonl } from './jsonl-writer.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'voxseg-jsonl-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function quietBus(runId = 'r') {
  const lines: string[] = [];
  return { bus: new EventBus({ context: { runId }, logger: { warn: (l) => void lines.push(l) }, now: () => 42 }), lines };
}

describe('writeEventsJsonl', () => {
  it('writes one JSON object per line, readable before the stream ends', () => {
    const path = join(tempDir(), 'run', 'events.jsonl'); // parent dir created on demand
    const { bus } = quietBus();
    const writer = writeEventsJsonl(bus.events$, path);
    bus.emit('epochStart', { lr: 0.01 });
    bus.setContext({ iteration: 1 });
    bus.emit('batchEnd', { loss: Number.NaN, lr: 0.01, ms: 3 });
    // flushed per event: visible on disk while the run is still going
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({ type: 'epochStart', runId: 'r', epoch: 0, iteration: 0, timestamp: 42, lr: 0.01 });
    expect(JSON.parse(lines[1]!)).toMatchObject({ type: 'batchEnd', iteration: 1, loss: null });
    expect(writer.written).toBe(2);
    bus.complete();
    bus.emit('epochStart', { lr: 1 }); // dropped after completion
    expect(readEventsJsonl(path).events).toHaveLength(2);
  });

  it('appends on resume and isolates a line torn by a crash', () => {
    const path = join(tempDir(), 'events.jsonl');
    const first = quietBus('run-a');
    writeEventsJsonl(first.bus.events$, path);
    first.bus.emit('runStart', {
      epochs: 2, iterationsPerEpoch: 1, backend: 'cpu', network: 'x', parameters: 1, seed: 1, startEpoch: 0, resumed: false, plugins: [],
    });
    first.bus.complete();
    appendFileSync(path, '{"type":"batchEnd","lo'); // the process died mid-write

    const second = quietBus('run-a');
    second.bus.setContext({ epoch: 1 });
    const writer = writeEventsJsonl(second.bus.events$, path);
    second.bus.emit('epochStart', { lr: 0.005 });
    writer.close();
    writer.close(); // idempotent
    second.bus.emit('epochStart', { lr: 0.001 }); // not written after close

    const { events, skipped } = readEventsJsonl(path);
    expect(events.map((e) => `${e.type}@${e.epoch}`)).toEqual(['runStart@0', 'epochStart@1']);
    expect(skipped).toBe(1);
  });

  // /dev/full accepts open() and fails every write with ENOSPC: a real disk-full, no mock.
  it.skipIf(!existsSync('/dev/full'))('reports a failing write once as a subscriber error event and stops writing', () => {
    const { bus, lines } = quietBus();
    const seen: string[] = [];
    const writer = writeEventsJsonl(bus.events$, '/dev/full');
    bus.events$.subscribe((e) => seen.push(e.type === 'error' ? `error:${e.source}` : e.type));
    bus.emit('batchEnd', { loss: 1, lr: 1, ms: 1 });
    bus.emit('batchEnd', { loss: 2, lr: 1, ms: 1 });
    expect(seen).toEqual(['batchEnd', 'error:subscriber', 'batchEnd']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/events\.jsonl: cannot write \/dev\/full: .*ENOSPC.*no further events will be written/);
    expect(writer.written).toBe(0);
  });

  it('readEventsJsonl of a missing file is empty', () => {
    expect(readEventsJsonl(join(tempDir(), 'nope.jsonl'))).toEqual({ events: [], skipped: 0 });
  });
});
