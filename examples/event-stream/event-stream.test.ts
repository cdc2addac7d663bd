import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventsJsonl } from '@voxseg/core';
import { runEventStreamExample } from './src/run-example.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'voxseg-example-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples/event-stream', () => {
  it('stops the run through a command after maxBatches and writes the CSV and events.jsonl', async () => {
    const lines: string[] = [];
    const out = tmp();
    const result = await runEventStreamExample({ outDir: out, patch: 8, epochs: 3, iterations: 4, valIterations: 1, maxBatches: 6, printEvery: 2, log: (l) => lines.push(l) });
    expect(result.stoppedBy).toBe('max-batches');
    expect(result.summary).toMatchObject({ reason: 'stopped', epochsCompleted: 1, iterations: 6 });
    const csv = readFileSync(result.csvPath, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,iteration,loss,lr,ms,timestamp');
    expect(csv.slice(1).map((r) => r.split(',').slice(0, 2).join('.'))).toEqual(['0.0', '0.1', '0.2', '0.3', '1.0', '1.1']);
    for (const row of csv.slice(1)) expect(Number.isFinite(Number(row.split(',')[2]))).toBe(true);
    const { events, skipped } = readEventsJsonl(result.eventsPath);
    expect(skipped).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: 'runEnd', reason: 'stopped' });
    expect(events.at(-2)).toMatchObject({ type: 'checkpointSaved', kind: 'last' });
    expect(lines.some((l) => l.startsWith('epoch 0 validation: loss'))).toBe(true);
    expect(lines.filter((l) => / batch \d+: loss /.test(l))).toHaveLength(3);
  });

  it('stops on a loss plateau', async () => {
    // minDelta so large that no batch counts as an improvement: stops after `patience` batches.
    const result = await runEventStreamExample({ outDir: tmp(), patch: 8, epochs: 2, iterations: 5, valIterations: 1, patience: 3, minDelta: 1e9, log: () => undefined });
    expect(result.stoppedBy).toBe('plateau');
    expect(result.summary.iterations).toBe(4);
  });

  it('runs to completion when nothing stops it, and the loss falls', async () => {
    const out = tmp();
    const result = await runEventStreamExample({ outDir: out, patch: 8, epochs: 2, iterations: 15, valIterations: 1, log: () => undefined });
    expect(result.summary.reason).toBe('completed');
    const losses = readFileSync(result.csvPath, 'utf8').trim().split('\n').slice(1).map((r) => Number(r.split(',')[2]));
    expect(losses).toHaveLength(30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
  });
});
