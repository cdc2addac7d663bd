// Test fixtures: run folders with events.jsonl as `voxseg train` writes them, and a Chromium
// launcher for the browser tests.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

let clock = Date.UTC(2026, 0, 1);

/** One events.jsonl line. */
export function eventLine(fields: Record<string, unknown>): string {
  clock += 1000;
  return `${JSON.stringify({ runId: 'fixture', iteration: 0, timestamp: clock, ...fields })}\n`;
}

/** The lines of `epochs` complete epochs (starting at `from`) of a run with `iterations` per epoch. */
export function epochLines(from: number, epochs: number, iterations: number, seed = 0): string {
  let out = '';
  for (let e = from; e < from + epochs; e++) {
    out += eventLine({ type: 'epochStart', epoch: e, lr: 0.01 });
    for (let i = 0; i < iterations; i++) out += eventLine({ type: 'batchEnd', epoch: e, iteration: i, loss: 1 / (1 + e + i / iterations) + seed * 0.01, lr: 0.01, ms: 100 });
    out += eventLine({ type: 'validationEnd', epoch: e, iteration: iterations, loss: 0.8 / (1 + e), dice: { WT: 0.5 + 0.04 * e, TC: 0.4 + 0.04 * e, ET: 0.3 + 0.05 * e }, meanDice: 0.4 + 0.043 * e, ms: 50 });
    out += eventLine({ type: 'epochEnd', epoch: e, iteration: iterations, trainLoss: 1 / (1 + e), valLoss: 0.8 / (1 + e), meanDice: 0.4 + 0.043 * e, emaDice: 0.4 + 0.03 * e + seed * 0.02, lr: 0.01, ms: 1200, memory: { tensors: 100, bytes: 4e6, rss: 3e8 } });
  }
  return out;
}

/** A run folder with config.json and `epochs` epochs of events; `ended` appends runEnd. */
export function writeRun(dir: string, opts: { epochs?: number; total?: number; iterations?: number; ended?: 'completed' | 'stopped'; fold?: number; seed?: number } = {}): string {
  const { epochs = 3, total = 10, iterations = 4 } = opts;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ variant: 'BL', backendSelected: 'cpu', ...(opts.fold !== undefined ? { fold: opts.fold } : {}) }));
  const file = path.join(dir, 'events.jsonl');
  writeFileSync(file, eventLine({ type: 'runStart', epoch: 0, epochs: total, iterationsPerEpoch: iterations, backend: 'cpu', network: 'BL', parameters: 1234, seed: 1, startEpoch: 0, resumed: false, plugins: [] }));
  appendFileSync(file, epochLines(0, epochs, iterations, opts.seed ?? 0));
  if (opts.ended) appendFileSync(file, eventLine({ type: 'runEnd', epoch: epochs, iteration: 0, reason: opts.ended, epochsCompleted: epochs, ms: 5000 }));
  return file;
}

/** Chromium from the system (Debian's `chromium` package); never downloaded. */
export const CHROMIUM = process.env.VOXSEG_CHROMIUM ?? '/usr/bin/chromium';
/** Flags that give headless Chromium WebGL2 without a GPU (SwiftShader). */
export const CHROMIUM_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox'];
