// Fault injection over the checkpoint write/swap protocol: a training is frozen at each step
// of writing its `last` checkpoint (the stage hook never resolves, so nothing after that step
// runs, exactly as after `kill -9`), then a new trainer resumes in the same folder. It must
// clean every leftover, restore the newest complete checkpoint, and end with weights
// bit-identical to an uninterrupted run.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingEvent } from '../events/types.js';
import { setWriteDirStageHook, type WriteDirStage } from '../io/atomic-dir.js';
import { Rng } from '../random/rng.js';
import { toyLoss, toyModel, toyProvider, weightsOf } from './__tests__/toy-problem.js';
import { checkpointDir, checkpointPosition, CHECKPOINTS_DIR } from './checkpoint.js';
import { Trainer } from './trainer.js';
import type { TrainerConfig } from './trainer-config.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'voxseg-ckpt-fault-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setWriteDirStageHook(null));
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const EPOCHS = 3;
const ITERS = 2;
function config(outDir: string, extra: Partial<TrainerConfig> = {}): TrainerConfig {
  return {
    model: toyModel(11, true),
    loss: toyLoss,
    train: toyProvider({ seed: 1 }),
    val: toyProvider({ seed: 2 }),
    epochs: EPOCHS,
    iterationsPerEpoch: ITERS,
    valIterations: 1,
    seed: 5,
    runId: 'fault-run',
    backend: 'cpu',
    logger: { warn: () => undefined },
    outDir,
    rng: new Rng(99),
    ...extra,
  };
}

async function runCollect(trainer: Trainer) {
  const events: TrainingEvent[] = [];
  trainer.events$.subscribe((e) => events.push(e));
  const summary = await trainer.run();
  return { events, summary };
}

let reference: Float32Array[];
const stash: Record<number, string> = {};

beforeAll(async () => {
  // The uninterrupted run; a copy of `last` after each epoch for the stale-copies case.
  const out = tmp();
  const keep = tmp();
  const trainer = new Trainer(config(out));
  trainer.events$.subscribe((e) => {
    if (e.type === 'checkpointSaved' && e.kind === 'last') {
      const epoch = e.epoch + 1;
      stash[epoch] = join(keep, `epoch-${epoch}`);
      cpSync(e.path, stash[epoch]!, { recursive: true });
    }
  });
  expect((await trainer.run()).reason).toBe('completed');
  reference = weightsOf(trainer.config.model);
  trainer.config.model.dispose();
});

/** Each step of writeDirAtomic + writeCheckpoint, and the epoch a resume must start at. */
const STEPS: { stage: WriteDirStage; detail?: string; resumesAt: number }[] = [
  { stage: 'tmp-created', resumesAt: 1 },
  { stage: 'filling', detail: 'model', resumesAt: 1 },
  { stage: 'filling', detail: 'optimizer', resumesAt: 1 },
  { stage: 'filled', resumesAt: 2 }, // the new copy is complete in the temporary folder
  { stage: 'old-moved', resumesAt: 2 }, // `last` missing: old copy and new one beside it
  { stage: 'swapped', resumesAt: 2 }, // new `last`, old copy still there
  { stage: 'done', resumesAt: 2 },
];

describe('checkpoint recovery after a kill at each step of the write/swap protocol', () => {
  for (const step of STEPS) {
    it(`killed at ${step.stage}${step.detail ? `:${step.detail}` : ''} of the second 'last' save: resumes at epoch ${step.resumesAt}, bit-identical`, async () => {
      const out = tmp();
      const lastDir = checkpointDir(out, 'last');
      let saves = 0;
      let frozen!: () => void;
      const reached = new Promise<void>((resolve) => (frozen = resolve));
      setWriteDirStageHook((stage, dir, detail) => {
        if (dir !== lastDir) return;
        if (stage === 'tmp-created') saves++;
        if (saves === 2 && stage === step.stage && detail === step.detail) {
          frozen();
          return new Promise<void>(() => undefined); // never resolves: the process "died" here
        }
      });
      const first = new Trainer(config(out));
      void first.run();
      await reached;
      setWriteDirStageHook(null);
      if (step.stage !== 'done') {
        // The leftovers a kill leaves, as the issue reported them.
        const names = readdirSync(join(out, CHECKPOINTS_DIR));
        expect(names.some((n) => n.startsWith('.last.tmp-') || n.startsWith('last.old-')), names.join(',')).toBe(true);
      }

      const second = new Trainer(config(out, { resume: true, rng: new Rng(1) }));
      const { events, summary } = await runCollect(second);
      expect(summary.reason).toBe('completed');
      expect(events[0]).toMatchObject({ type: 'runStart', resumed: true, startEpoch: step.resumesAt });
      expect(readdirSync(join(out, CHECKPOINTS_DIR)).sort()).toEqual(['best', 'final', 'last'].filter((k) => existsSync(join(out, CHECKPOINTS_DIR, k))));
      expect(weightsOf(second.config.model)).toEqual(reference);
      second.config.model.dispose();
    });
  }

  it('with stale copies present, restores the newest complete one by its recorded epoch, not by listing order', async () => {
    const out = tmp();
    const root = join(out, CHECKPOINTS_DIR);
    // `last` itself is missing (killed between the renames); three copies beside it. Names are
    // chosen so that the newest complete one (epoch 2) sorts neither first nor last, and the
    // newest of all (epoch 3) is incomplete (its weights.bin was cut short).
    cpSync(stash[1]!, join(root, 'last.old-100'), { recursive: true });
    cpSync(stash[2]!, join(root, 'last.old-200'), { recursive: true });
    cpSync(stash[1]!, join(root, 'last.old-300'), { recursive: true });
    cpSync(stash[3]!, join(root, '.last.tmp-400-1'), { recursive: true });
    truncateSync(join(root, '.last.tmp-400-1', 'weights.bin'), 100);
    expect(await checkpointPosition(join(root, '.last.tmp-400-1'))).toBeNull();
    expect(await checkpointPosition(join(root, 'last.old-200'))).toBe(2 * (ITERS + 1));

    const trainer = new Trainer(config(out, { resume: true }));
    const { events, summary } = await runCollect(trainer);
    expect(summary.reason).toBe('completed');
    expect(events[0]).toMatchObject({ type: 'runStart', resumed: true, startEpoch: 2 });
    expect(readdirSync(root).sort()).toEqual(['final', 'last']);
    expect(weightsOf(trainer.config.model)).toEqual(reference);
    trainer.config.model.dispose();
  });

  it('an existing but older `last` is replaced by a newer complete copy left beside it', async () => {
    const out = tmp();
    const root = join(out, CHECKPOINTS_DIR);
    cpSync(stash[1]!, join(root, 'last'), { recursive: true });
    cpSync(stash[2]!, join(root, '.last.tmp-7-1'), { recursive: true });
    renameSync(join(root, '.last.tmp-7-1'), join(root, '.last.tmp-7-2')); // any suffix
    const trainer = new Trainer(config(out, { resume: true }));
    const { events } = await runCollect(trainer);
    expect(events[0]).toMatchObject({ type: 'runStart', startEpoch: 2 });
    expect(weightsOf(trainer.config.model)).toEqual(reference);
    trainer.config.model.dispose();
  });
});
