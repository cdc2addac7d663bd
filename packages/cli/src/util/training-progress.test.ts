import { EventBus } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { reportTrainingProgress } from './training-progress.js';

describe('reportTrainingProgress', () => {
  it('turns a run\'s events into progress lines and epoch summaries', () => {
    const out: string[] = [];
    const stream = { isTTY: false, write: (s: string) => void out.push(s) };
    const logger = createLogger({ level: 'info', stream });
    const bus = new EventBus({ context: { runId: 'r1' }, now: () => 0 });
    reportTrainingProgress(bus.events$, { logger, progress: { stream, intervalMs: 0, now: () => 0 } });
    bus.emit('runStart', { epochs: 1, iterationsPerEpoch: 2, backend: 'cpu', network: 'BL', parameters: 12345, seed: 7, startEpoch: 0, resumed: false, plugins: [] });
    bus.emit('epochStart', { lr: 0.01 });
    bus.emit('batchEnd', { loss: 0.5, lr: 0.01, ms: 1 });
    bus.setContext({ iteration: 1 });
    bus.emit('batchEnd', { loss: 0.25, lr: 0.01, ms: 1 });
    bus.emit('epochEnd', { trainLoss: 0.375, valLoss: 0.3, meanDice: 0.5, emaDice: 0.05, lr: 0.01, ms: 2000 });
    bus.emit('error', { message: 'plot failed', source: 'subscriber', fatal: false });
    bus.emit('runEnd', { reason: 'completed', epochsCompleted: 1, ms: 2000 });
    bus.complete();
    expect(out).toEqual([
      'run r1: BL, 12,345 parameters, 1 epochs x 2 iterations, backend cpu, seed 7\n',
      'epoch 1/1 1/2 it (50%) elapsed 0s ETA 0s | loss 0.5000 lr 1.00e-2\n',
      'epoch 1/1 2/2 it (100%) elapsed 0s | loss 0.2500 lr 1.00e-2\n',
      'epoch 1/1: train loss 0.3750, val loss 0.3000, mean pseudo-Dice 0.5000 (EMA 0.0500), lr 1.00e-2, 2s\n',
      'warn: warning (subscriber): plot failed\n',
      'run completed after 1 epoch(s) in 2s\n',
    ]);
  });
});
