import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingEvent } from '../events/types.js';
import { loadModel } from '../io/model-files.js';
import { Rng } from '../random/rng.js';
import { toyLoss, toyModel, toyProvider, weightsOf } from './__tests__/toy-problem.js';
import { checkpointDir, readTrainerState } from './checkpoint.js';
import { polyLearningRate } from './poly-scheduler.js';
import { AdamW } from './adamw.js';
import { Trainer } from './trainer.js';
import { warmupCosineScheduler } from './warmup-cosine-scheduler.js';
import type { TrainerConfig } from './trainer-config.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'voxseg-trainer-'));
  dirs.push(d);
  return d;
}
const quiet = { warn: () => undefined };

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(overrides: Partial<TrainerConfig> = {}): TrainerConfig {
  return {
    // Only built when not overridden: a spare model would count as live tensors in the leak test.
    model: overrides.model ?? toyModel(),
    loss: toyLoss,
    train: toyProvider({ seed: 1 }),
    val: toyProvider({ seed: 2 }),
    epochs: 2,
    iterationsPerEpoch: 2,
    valIterations: 1,
    seed: 5,
    runId: 'test-run',
    backend: 'cpu',
    logger: quiet,
    ...overrides,
  };
}

/** Run a trainer, collecting its events; `onEvent` may send commands. */
async function runCollect(trainer: Trainer, onEvent?: (e: TrainingEvent, t: Trainer) => void) {
  const events: TrainingEvent[] = [];
  trainer.events$.subscribe((e) => {
    events.push(e);
    onEvent?.(e, trainer);
  });
  const summary = await trainer.run();
  return { events, summary };
}

const brief = (e: TrainingEvent) => `${e.type}${e.type === 'checkpointSaved' ? `:${e.kind}` : ''}@${e.epoch}.${e.iteration}`;

describe('Trainer', () => {
  it('emits the documented event sequence for a complete run, with checkpoints', async () => {
    const out = tmp();
    const trainer = new Trainer(config({ outDir: out }));
    const { events, summary } = await runCollect(trainer);
    expect(events.map(brief)).toEqual([
      'runStart@0.0',
      'epochStart@0.0', 'batchEnd@0.0', 'batchEnd@0.1', 'validationEnd@0.2', 'epochEnd@0.2', 'checkpointSaved:last@0.2', 'checkpointSaved:best@0.2',
      'epochStart@1.0', 'batchEnd@1.0', 'batchEnd@1.1', 'validationEnd@1.2', 'epochEnd@1.2', 'checkpointSaved:last@1.2',
      ...(events.some((e) => e.type === 'checkpointSaved' && e.kind === 'best' && e.epoch === 1) ? ['checkpointSaved:best@1.2'] : []),
      'checkpointSaved:final@1.2', 'runEnd@1.2',
    ]);
    for (const e of events) {
      expect(e.runId).toBe('test-run');
      expect(typeof e.timestamp).toBe('number');
    }
    const start = events[0] as TrainingEvent<'runStart'>;
    expect(start).toMatchObject({ epochs: 2, iterationsPerEpoch: 2, backend: 'cpu', network: 'toy-net', seed: 5, startEpoch: 0, resumed: false });
    expect(start.parameters).toBe(4 * 27 + 4 + 2 * 4 + 2);
    const batchEnds = events.filter((e): e is TrainingEvent<'batchEnd'> => e.type === 'batchEnd');
    expect(batchEnds.map((e) => e.lr)).toEqual([0.01, 0.01, polyLearningRate(0.01, 1, 2), polyLearningRate(0.01, 1, 2)]);
    const val = events.find((e): e is TrainingEvent<'validationEnd'> => e.type === 'validationEnd')!;
    expect(Object.keys(val.dice)).toEqual(['A', 'B']);
    expect(val.meanDice).toBeCloseTo((val.dice.A! + val.dice.B!) / 2, 12);
    const epochEnds = events.filter((e): e is TrainingEvent<'epochEnd'> => e.type === 'epochEnd');
    expect(epochEnds[0]!.trainLoss).toBeCloseTo((batchEnds[0]!.loss + batchEnds[1]!.loss) / 2, 10);
    expect(epochEnds[0]!.emaDice).toBe(epochEnds[0]!.meanDice);
    expect(epochEnds[1]!.emaDice).toBeCloseTo(0.9 * epochEnds[0]!.meanDice! + 0.1 * epochEnds[1]!.meanDice!, 12);
    expect(events.at(-1)).toMatchObject({ type: 'runEnd', reason: 'completed', epochsCompleted: 2 });
    expect(summary).toMatchObject({ reason: 'completed', epochsCompleted: 2, iterations: 4, runId: 'test-run' });
    // Checkpoint layout, and `final` loads as a plain TensorFlow.js model.
    for (const kind of ['last', 'best', 'final'] as const) {
      for (const f of ['model.json', 'weights.bin', 'optimizer.bin', 'trainer-state.json']) expect(existsSync(join(checkpointDir(out, kind), f)), `${kind}/${f}`).toBe(true);
    }
    const state = await readTrainerState(checkpointDir(out, 'final'));
    expect(state).toMatchObject({ epoch: 2, iteration: 0, epochsCompleted: 2, globalIteration: 4, runId: 'test-run' });
    const { model: loaded, meta } = await loadModel(checkpointDir(out, 'final'));
    expect(meta).toMatchObject({ regions: ['A', 'B'], checkpoint: 'final', runId: 'test-run' });
    expect(weightsOf(loaded)).toEqual(weightsOf(trainer.config.model));
    loaded.dispose();
  });

  it('a stop command ends the run after the current iteration with last + runEnd stopped', async () => {
    const out = tmp();
    const trainer = new Trainer(config({ outDir: out, epochs: 3 }));
    const { events, summary } = await runCollect(trainer, (e, t) => {
      if (e.type === 'batchEnd' && e.epoch === 1 && e.iteration === 0) t.stop('enough');
    });
    expect(events.map(brief).slice(-4)).toEqual(['epochStart@1.0', 'batchEnd@1.0', 'checkpointSaved:last@1.1', 'runEnd@1.1']);
    expect(events.at(-1)).toMatchObject({ type: 'runEnd', reason: 'stopped', epochsCompleted: 1, message: 'enough' });
    expect(summary).toMatchObject({ reason: 'stopped', epochsCompleted: 1, iterations: 3 });
    expect(await readTrainerState(checkpointDir(out, 'last'))).toMatchObject({ epoch: 1, iteration: 1, globalIteration: 3 });
  });

  it('saveCheckpoint writes a manual checkpoint after the current iteration', async () => {
    const out = tmp();
    const trainer = new Trainer(config({ outDir: out, val: undefined }));
    const { events } = await runCollect(trainer, (e, t) => {
      if (e.type === 'batchEnd' && e.epoch === 0 && e.iteration === 0) t.saveCheckpoint();
    });
    expect(events.map(brief).slice(1, 5)).toEqual(['epochStart@0.0', 'batchEnd@0.0', 'checkpointSaved:manual@0.1', 'batchEnd@0.1']);
    expect(await readTrainerState(checkpointDir(out, 'manual'))).toMatchObject({ epoch: 0, iteration: 1, globalIteration: 1 });
  });

  it('resume: true without a checkpoint starts a new run with a warning', async () => {
    const warnings: string[] = [];
    const trainer = new Trainer(config({ outDir: tmp(), resume: true, epochs: 1, iterationsPerEpoch: 1, val: undefined, logger: { warn: (m) => warnings.push(m) } }));
    const { events, summary } = await runCollect(trainer);
    expect(summary.reason).toBe('completed');
    expect(events[0]).toMatchObject({ type: 'runStart', resumed: false, startEpoch: 0 });
    expect(warnings.join('\n')).toMatch(/resume requested but .*checkpoints\/last holds no checkpoint; starting a new run/);
  });

  it('setLearningRate applies from the next iteration, until the next epoch unless persistent', async () => {
    const lrs = async (persistent: boolean) => {
      const trainer = new Trainer(config({ epochs: 2, iterationsPerEpoch: 3, val: undefined }));
      const { events } = await runCollect(trainer, (e, t) => {
        if (e.type === 'batchEnd' && e.epoch === 0 && e.iteration === 0) t.setLearningRate(0.5, persistent);
      });
      return events.filter((e) => e.type === 'batchEnd' || e.type === 'epochStart').map((e) => (e as TrainingEvent<'batchEnd'>).lr);
    };
    const poly1 = polyLearningRate(0.01, 1, 2);
    expect(await lrs(false)).toEqual([0.01, 0.01, 0.5, 0.5, poly1, poly1, poly1, poly1]);
    expect(await lrs(true)).toEqual([0.01, 0.01, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('fits a toy problem: the loss falls clearly and the pseudo-Dice is high', async () => {
    const trainer = new Trainer(config({ epochs: 1, iterationsPerEpoch: 80, valIterations: 2, initialLr: 0.1 }));
    const { events } = await runCollect(trainer);
    const losses = events.filter((e): e is TrainingEvent<'batchEnd'> => e.type === 'batchEnd').map((e) => e.loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-10));
    expect(last, `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`).toBeLessThan(0.4 * first);
    const val = events.find((e): e is TrainingEvent<'validationEnd'> => e.type === 'validationEnd')!;
    expect(val.dice.A, JSON.stringify(val.dice)).toBeGreaterThan(0.9);
  });

  it('keeps the number of live tensors constant across iterations and the whole run (deep supervision)', async () => {
    const model = toyModel(7, true);
    const before = tf.memory().numTensors;
    const trainer = new Trainer(config({ model, epochs: 2, iterationsPerEpoch: 3 }));
    const counts: Record<string, number[]> = {};
    await runCollect(trainer, (e) => {
      (counts[e.type] ??= []).push(tf.memory().numTensors);
    });
    const atStart = counts.runStart![0]!;
    expect(counts.batchEnd).toEqual(Array(6).fill(atStart));
    expect(counts.epochEnd).toEqual([atStart, atStart]);
    expect(tf.memory().numTensors).toBe(before);
  });

  // The default optimizer and schedule, and the second registered pair (AdamW + warm-up cosine,
  // whose state is per-variable step counts and two moments): both resume exactly.
  const combos = {
    'sgd + poly': () => ({}),
    'adamw + warmup-cosine': () => ({ optimizer: (v: readonly tf.Variable[]) => new AdamW(v, { weightDecay: 0.05 }), scheduler: warmupCosineScheduler({ warmupIterations: 2 }), initialLr: 0.003 }),
  } satisfies Record<string, () => Partial<TrainerConfig>>;
  for (const [where, combo] of (['at an epoch boundary', 'in the middle of an epoch'] as const).flatMap((w) => Object.keys(combos).map((c) => [w, c as keyof typeof combos] as const))) {
    it(`resume after a stop ${where} ends with bit-identical weights to an uninterrupted run (${combo})`, async () => {
      const base = (outDir: string, extra: Partial<TrainerConfig> = {}) =>
        config({ model: toyModel(11, true), epochs: 3, iterationsPerEpoch: 3, outDir, rng: new Rng(99), ...combos[combo](), ...extra });

      const full = new Trainer(base(tmp()));
      const a = await runCollect(full);
      expect(a.summary.reason).toBe('completed');

      const out = tmp();
      const first = new Trainer(base(out));
      const b1 = await runCollect(first, (e, t) => {
        if (where === 'at an epoch boundary' && e.type === 'epochEnd' && e.epoch === 0) t.stop();
        if (where === 'in the middle of an epoch' && e.type === 'batchEnd' && e.epoch === 1 && e.iteration === 0) t.stop();
      });
      expect(b1.summary.reason).toBe('stopped');
      const rng = new Rng(1); // a different state: resume must restore the checkpoint's
      const second = new Trainer(base(out, { resume: true, runId: 'ignored-on-resume', rng }));
      const b2 = await runCollect(second);
      expect(b2.summary.reason).toBe('completed');
      expect(b2.events[0]).toMatchObject({ type: 'runStart', resumed: true, startEpoch: 1, runId: 'test-run' });

      expect(weightsOf(second.config.model)).toEqual(weightsOf(full.config.model));
      const losses = (evs: TrainingEvent[]) => evs.filter((e) => e.type === 'batchEnd').map((e) => (e as TrainingEvent<'batchEnd'>).loss);
      expect([...losses(b1.events), ...losses(b2.events)]).toEqual(losses(a.events));
      const lrs = (evs: TrainingEvent[]) => evs.filter((e) => e.type === 'batchEnd').map((e) => (e as TrainingEvent<'batchEnd'>).lr);
      expect([...lrs(b1.events), ...lrs(b2.events)]).toEqual(lrs(a.events));
      const lastEnd = (evs: TrainingEvent[]) => evs.filter((e): e is TrainingEvent<'epochEnd'> => e.type === 'epochEnd').at(-1)!;
      expect(lastEnd(b2.events)).toMatchObject({ trainLoss: lastEnd(a.events).trainLoss, emaDice: lastEnd(a.events).emaDice });
      expect(b2.summary.bestEmaDice).toBe(a.summary.bestEmaDice);
      expect(rng.getState()).toEqual(new Rng(99).getState());
      first.config.model.dispose();
      second.config.model.dispose();
      full.config.model.dispose();
    });
  }

  it('a NaN loss ends the run with error + runEnd error, leaving the last checkpoint untouched', async () => {
    const out = tmp();
    // Batches 0-1 are epoch 0; batch 3 (epoch 1, iteration 1) has a NaN image.
    const trainer = new Trainer(config({ outDir: out, epochs: 3, train: toyProvider({ seed: 1, nanAt: [3] }) }));
    const lastState = join(checkpointDir(out, 'last'), 'trainer-state.json');
    let mtime = 0;
    let weightsBefore: Float32Array[] = [];
    const { events, summary } = await runCollect(trainer, (e) => {
      if (e.type === 'batchEnd' && e.epoch === 1 && e.iteration === 0) {
        mtime = statSync(lastState).mtimeMs;
        weightsBefore = weightsOf(trainer.config.model).map((w) => w.slice());
      }
    });
    expect(events.map(brief).slice(-3)).toEqual(['batchEnd@1.0', 'error@1.1', 'runEnd@1.1']);
    expect(events.at(-2)).toMatchObject({ type: 'error', fatal: true, source: 'trainer' });
    expect((events.at(-2) as TrainingEvent<'error'>).message).toMatch(/non-finite training loss \(NaN\) at epoch 1 iteration 1/);
    expect(summary.reason).toBe('error');
    expect(statSync(lastState).mtimeMs).toBe(mtime);
    expect(JSON.parse(readFileSync(lastState, 'utf8'))).toMatchObject({ epoch: 1, iteration: 0 });
    expect(weightsOf(trainer.config.model)).toEqual(weightsBefore);
  });

  it('a failing batch provider ends the run with error { source: data }', async () => {
    const trainer = new Trainer(config({ train: toyProvider({ failAt: [2] }) }));
    const { events, summary } = await runCollect(trainer);
    expect(events.at(-2)).toMatchObject({ type: 'error', fatal: true, source: 'data', epoch: 1, iteration: 0 });
    expect((events.at(-2) as TrainingEvent<'error'>).message).toMatch(/train batch 2: toy provider cannot make batch 2/);
    expect(summary).toMatchObject({ reason: 'error', epochsCompleted: 1 });
  });

  it('prefetches the next batch while the current one trains', async () => {
    const requested: number[] = [];
    const trainer = new Trainer(config({ train: toyProvider({ requested }), val: undefined }));
    const seenAtBatchEnd: number[][] = [];
    await runCollect(trainer, (e) => {
      if (e.type === 'batchEnd') seenAtBatchEnd.push([...requested]);
    });
    expect(seenAtBatchEnd[0]).toEqual([0, 1]);
    expect(requested).toEqual([0, 1, 2, 3]);
  });

  it('a throwing subscriber does not disturb the run', async () => {
    const trainer = new Trainer(config({ val: undefined }));
    trainer.events$.subscribe((e) => {
      if (e.type === 'batchEnd') throw new Error('subscriber bug');
    });
    const { events, summary } = await runCollect(trainer);
    expect(summary.reason).toBe('completed');
    expect(events.filter((e) => e.type === 'error').every((e) => (e as TrainingEvent<'error'>).source === 'subscriber' && !(e as TrainingEvent<'error'>).fatal)).toBe(true);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(4);
  });

  it('rejects invalid configuration with a clear message', () => {
    expect(() => new Trainer(config({ epochs: 0 }))).toThrow(/epochs must be a positive integer, got 0/);
    expect(() => new Trainer(config({ clipNorm: -1 }))).toThrow(/clipNorm must be positive or null/);
    expect(() => new Trainer(config({ targetChannels: ['WT'] }))).toThrow(/targetChannels has 1 names/);
  });

  it('resume with another optimizer than the checkpoint was written with fails, naming both', async () => {
    const out = tmp();
    const first = new Trainer(config({ outDir: out, epochs: 2, iterationsPerEpoch: 1, val: undefined }));
    await runCollect(first, (e, t) => e.type === 'epochEnd' && t.stop());
    const second = new Trainer(config({ outDir: out, epochs: 2, iterationsPerEpoch: 1, val: undefined, resume: true, optimizer: (v) => new AdamW(v) }));
    const { events, summary } = await runCollect(second);
    expect(summary.reason).toBe('error');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ message: expect.stringMatching(/written with optimizer "sgd", the run uses "adamw"/) });
    first.config.model.dispose();
    second.config.model.dispose();
  });

  it('resume from a folder that is not a checkpoint fails with error + runEnd', async () => {
    const trainer = new Trainer(config({ resume: join(tmp(), 'nope') }));
    const { events } = await runCollect(trainer);
    expect(events.map((e) => e.type)).toEqual(['error', 'runEnd']);
    expect((events[0] as TrainingEvent<'error'>).message).toMatch(/nope is not a voxseg checkpoint/);
  });
});
