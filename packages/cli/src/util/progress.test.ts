import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration } from './progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => void chunks.push(s) } };
}

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [41_600, '42s'],
    [185_000, '3m05s'],
    [3_725_000, '1h02m'],
    [Number.NaN, '?'],
    [-1, '?'],
  ])('%d ms -> %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('createProgress (plain lines when not a TTY)', () => {
  it('prints the first update, then at most one line per interval, and a final line', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const p = createProgress({ label: 'predict', total: 4, unit: 'cases', stream, mode: 'auto', intervalMs: 1000, now: () => t });
    t = 500;
    p.update(1, 'case-1');
    t = 900;
    p.increment(); // within the interval: silent
    t = 2500;
    p.increment(1, 'case-3');
    t = 2600;
    p.stop(); // same state as the last line: nothing new to say
    t = 3000;
    p.stop('never printed'); // idempotent
    p.update(4); // ignored after stop
    const q = createProgress({ label: 'q', total: 2, stream, intervalMs: 1000, now: () => t });
    q.update(1);
    q.update(2); // within the interval
    q.stop(); // the final state was not printed yet
    expect(chunks).toEqual([
      'predict 1/4 cases (25%) elapsed 1s ETA 2s | case-1\n',
      'predict 3/4 cases (75%) elapsed 3s ETA 1s | case-3\n',
      'q 1/2 (50%) elapsed 0s ETA 0s\n',
      'q 2/2 (100%) elapsed 0s\n',
    ]);
  });

  it('omits the ETA when done and handles total 0', () => {
    const { chunks, stream } = sink(false);
    const p = createProgress({ label: 'x', total: 0, stream, now: () => 0 });
    p.stop('nothing to do');
    expect(chunks).toEqual(['x 0/0 (100%) elapsed 0s | nothing to do\n']);
  });

  it('log() prints a whole line; mode off prints nothing', () => {
    const { chunks, stream } = sink(false);
    createProgress({ label: 'x', total: 1, stream }).log('hello');
    createProgress({ label: 'y', total: 1, stream, mode: 'off' }).update(1);
    expect(chunks).toEqual(['hello\n']);
  });
});

describe('createProgress (bar on a TTY)', () => {
  it('draws a cli-progress bar with counts, status and ETA, and stops', () => {
    const { chunks, stream } = sink(true);
    // cli-progress moves the cursor through these TTY methods.
    Object.assign(stream, { cursorTo: () => true, clearLine: () => true, moveCursor: () => true, columns: 120 });
    const p = createProgress({ label: 'epoch 1/2', total: 10, unit: 'it', stream });
    p.update(5, 'loss 0.5000');
    p.stop('done');
    const text = chunks.join('');
    expect(text).toContain('epoch 1/2 [');
    expect(text).toContain('50% | 5/10 it');
    expect(text).toContain('ETA');
    expect(text).toContain('| done');
  });
});
