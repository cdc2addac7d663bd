import { describe, expect, it } from 'vitest';
import { epochLines, eventLine } from '../__tests__/fixtures.js';
import { foldBand, meanStd, RunState, smooth, type EventRecord } from './run-state.js';

const parse = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as EventRecord);

describe('smooth (TensorBoard debiased EMA)', () => {
  it('matches values computed by hand', () => {
    // w = 0.5: ema1 = 0.5*1 = 0.5 -> /(1-0.5) = 1; ema2 = 0.25+0.5*3 = 1.75 -> /(1-0.25) = 2.3333...
    expect(smooth([1, 3], 0.5)).toEqual([1, 1.75 / 0.75]);
    expect(smooth([4, 5, 6], 0)).toEqual([4, 5, 6]);
    expect(smooth([2, Number.NaN, 2], 0.9)).toEqual([2, Number.NaN, 2]);
  });
});

describe('meanStd / foldBand', () => {
  it('gives the sample standard deviation over the folds that reached each epoch', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    const band = foldBand([[{ epoch: 0, dice: {}, diceEma: {}, emaDice: 0.5 }, { epoch: 1, dice: {}, diceEma: {}, emaDice: 0.7 }], [{ epoch: 0, dice: {}, diceEma: {}, emaDice: 0.7 }]], (r) => r.emaDice);
    expect(band[0]!.mean).toBeCloseTo(0.6, 12);
    expect(band[0]!.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(band[1]).toEqual({ epoch: 1, mean: 0.7, std: 0, n: 1 });
  });
});

describe('RunState', () => {
  it('folds events into epoch rows, per-region EMA, speed, ETA and acknowledgements', () => {
    const s = new RunState();
    const text = eventLine({ type: 'runStart', epoch: 0, epochs: 10, iterationsPerEpoch: 4, backend: 'native', network: 'BL', parameters: 9 }) + epochLines(0, 2, 4);
    for (const e of parse(text)) s.add(e);
    s.add(parse(eventLine({ type: 'commandApplied', epoch: 2, id: 'c-1', command: { type: 'saveCheckpoint' } }))[0]!);
    expect(s.meta).toMatchObject({ backend: 'native', epochs: 10, iterationsPerEpoch: 4, commands: { 'c-1': { status: 'applied', type: 'saveCheckpoint' } } });
    expect(s.epochs.map((r) => r.epoch)).toEqual([0, 1]);
    expect(s.regions()).toEqual(['WT', 'TC', 'ET']);
    // EMA with alpha 0.9, as the trainer's: first value as is, then 0.9*prev + 0.1*new.
    expect(s.epochs[0]!.diceEma.WT).toBeCloseTo(0.5, 12);
    expect(s.epochs[1]!.diceEma.WT).toBeCloseTo(0.9 * 0.5 + 0.1 * 0.54, 12);
    expect(s.batches).toHaveLength(8);
    expect(s.batches[3]!.x).toBe(1);
    expect(s.itPerSecond()).toBeCloseTo(10, 12); // 100 ms per iteration
    expect(s.etaSeconds()).toBeCloseTo(8 * 1.2, 12); // 8 epochs left x 1.2 s
    s.add(parse(eventLine({ type: 'runEnd', epoch: 2, reason: 'stopped', epochsCompleted: 2, ms: 10 }))[0]!);
    expect(s.meta.ended?.reason).toBe('stopped');
    expect(s.etaSeconds()).toBeUndefined();
    s.reset();
    expect(s.epochs).toHaveLength(0);
    expect(s.meta).toEqual({ checkpoints: [], commands: {}, errors: [] });
  });
});
