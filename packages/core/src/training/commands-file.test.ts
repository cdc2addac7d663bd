import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingEvent } from '../events/types.js';
import { toyLoss, toyModel, toyProvider } from './__tests__/toy-problem.js';
import { checkpointDir, readTrainerState } from './checkpoint.js';
import { appendCommand, commandsFilePath, CommandsFileFollower } from './commands-file.js';
import { Trainer } from './trainer.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'voxseg-commands-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('CommandsFileFollower', () => {
  it('returns only lines appended after it was created, holding back a partial last line', () => {
    const file = join(tmp(), 'commands.jsonl');
    writeFileSync(file, '{"id":"old","type":"stop"}\n');
    const f = new CommandsFileFollower(file);
    expect(f.poll()).toEqual({ commands: [], rejected: [] });
    appendFileSync(file, '{"id":"a","type":"saveCheckpoint"}\n{"id":"b","type":"setLearn');
    expect(f.poll().commands).toEqual([{ id: 'a', command: { type: 'saveCheckpoint', id: 'a' } }]);
    appendFileSync(file, 'ingRate","lr":0.5}\n');
    expect(f.poll().commands).toEqual([{ id: 'b', command: { type: 'setLearningRate', lr: 0.5, id: 'b' } }]);
    expect(f.poll()).toEqual({ commands: [], rejected: [] });
  });

  it('picks up a file that did not exist yet, and rejects malformed lines with a reason', () => {
    const file = join(tmp(), 'sub', 'commands.jsonl');
    const f = new CommandsFileFollower(file);
    expect(f.poll()).toEqual({ commands: [], rejected: [] });
    appendCommand(file, { type: 'stop' }, 's1');
    appendFileSync(file, 'not json\n{"id":"x","type":"explode"}\n{"id":"y","type":"setLearningRate","lr":-1}\n{"type":"stop","reason":"hand-written"}\n');
    const { commands, rejected } = f.poll();
    expect(commands).toEqual([{ id: 's1', command: { type: 'stop', id: 's1' } }, { command: { type: 'stop', reason: 'hand-written' } }]);
    expect(rejected).toHaveLength(3);
    expect(rejected[0]!.message).toMatch(/not JSON: not json/);
    expect(rejected[1]).toMatchObject({ id: 'x', message: expect.stringMatching(/Unknown trainer command "explode"/) });
    expect(rejected[2]).toMatchObject({ id: 'y', message: expect.stringMatching(/lr must be a positive finite number, got -1/) });
  });

  it('appendCommand refuses a malformed command and writes nothing', () => {
    const file = join(tmp(), 'commands.jsonl');
    expect(() => appendCommand(file, { type: 'setLearningRate', lr: Number.NaN }, 'z')).toThrow(/lr must be a positive finite number/);
    expect(() => appendCommand(file, { type: 'nope' } as never, 'z')).toThrow(/Unknown trainer command/);
    expect(() => appendCommand(file, { type: 'stop' }, '')).toThrow(/id/);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });
});

describe('Trainer takes commands from <outDir>/commands.jsonl', () => {
  it('applies lines appended during the run, acknowledges each id, ignores malformed lines and never replays old ones', async () => {
    const out = tmp();
    const file = commandsFilePath(out);
    // A stop left over from an earlier process: must not be replayed.
    appendCommand(file, { type: 'stop' }, 'stale');
    const warnings: string[] = [];
    const trainer = new Trainer({
      model: toyModel(),
      loss: toyLoss,
      train: toyProvider({ seed: 1 }),
      epochs: 3,
      iterationsPerEpoch: 2,
      seed: 5,
      runId: 'cmd-run',
      backend: 'cpu',
      outDir: out,
      logger: { warn: (m) => warnings.push(m) },
    });
    const events: TrainingEvent[] = [];
    trainer.events$.subscribe((e) => {
      events.push(e);
      // Another process would append these; the trainer only sees the file.
      if (e.type === 'batchEnd' && e.epoch === 0 && e.iteration === 0) {
        appendCommand(file, { type: 'setLearningRate', lr: 0.25 }, 'lr1');
        appendFileSync(file, '{"id":"bad","type":"setLearningRate","lr":"fast"}\n');
      }
      if (e.type === 'batchEnd' && e.epoch === 1 && e.iteration === 0) appendCommand(file, { type: 'stop', reason: 'from the page' }, 'stop1');
    });
    const summary = await trainer.run();
    expect(summary).toMatchObject({ reason: 'stopped', message: 'from the page', epochsCompleted: 1, iterations: 3 });
    const types = events.map((e) => e.type);
    expect(types).not.toContain('error');
    const rejected = events.filter((e) => e.type === 'commandRejected');
    expect(rejected).toEqual([expect.objectContaining({ id: 'bad', message: expect.stringMatching(/lr must be a positive finite number, got fast/) })]);
    expect(warnings.some((w) => /ignored a command/.test(w))).toBe(true);
    const applied = events.filter((e) => e.type === 'commandApplied');
    expect(applied.map((e) => (e.type === 'commandApplied' ? [e.id, e.command] : null))).toEqual([
      ['lr1', { type: 'setLearningRate', lr: 0.25 }],
      ['stop1', { type: 'stop', reason: 'from the page' }],
    ]);
    // lr override took effect on the next iteration; the stop ended the run with a `last` checkpoint.
    const batchLrs = events.filter((e) => e.type === 'batchEnd').map((e) => (e.type === 'batchEnd' ? e.lr : 0));
    expect(batchLrs[1]).toBe(0.25);
    expect(types.slice(-4)).toEqual(['batchEnd', 'commandApplied', 'checkpointSaved', 'runEnd']);
    expect(await readTrainerState(checkpointDir(out, 'last'))).toMatchObject({ epoch: 1, iteration: 1 });
    const epochEnd = events.find((e) => e.type === 'epochEnd');
    expect(epochEnd?.type === 'epochEnd' && epochEnd.memory?.tensors).toBeGreaterThan(0);
  });

  it('commandsFile: null turns the file off', async () => {
    const out = tmp();
    const trainer = new Trainer({ model: toyModel(), loss: toyLoss, train: toyProvider({ seed: 1 }), epochs: 1, iterationsPerEpoch: 2, outDir: out, commandsFile: null, logger: { warn: () => undefined } });
    trainer.events$.subscribe((e) => {
      if (e.type === 'batchEnd' && e.iteration === 0) appendCommand(commandsFilePath(out), { type: 'stop' }, 'ignored');
    });
    expect((await trainer.run()).reason).toBe('completed');
  });
});
