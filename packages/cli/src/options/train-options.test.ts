import { Command } from 'commander';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addTrainOptions, type TrainFlags, trainFlagsToArgs, trainFlagsToLayer } from './train-options.js';

function parse(...args: string[]): TrainFlags {
  const cmd = addTrainOptions(new Command('train').option('--data <dir>').option('--out <dir>').option('--fold <k>', '', Number)).exitOverride();
  cmd.parse(args, { from: 'user' });
  return cmd.opts<TrainFlags>();
}

describe('training flags', () => {
  it('give a layer with only the flags given (no --no-deep-supervision: no deepSupervision key)', () => {
    const flags = parse('--data', 'd', '--variant', 'BL+L', '--epochs', '3', '--patch', '32', '--base-filters', '8', '--data-workers', '0', '--augmentation', 'none');
    expect(trainFlagsToLayer(flags)).toEqual({
      training: { epochs: 3, patch: 32 },
      dataset: { options: { root: 'd' } },
      network: { name: 'BL+L', options: { baseFilters: 8 } },
      sampler: { options: { workers: 0 } },
      augmentation: [],
    });
    expect(trainFlagsToLayer(parse('--no-deep-supervision', '--skip-invalid', '--checkpoint-decoder', '--checkpoint-encoder', '--no-memory-check'))).toEqual({
      training: { skipInvalid: true, checkpointDecoder: true, checkpointEncoder: true, memoryCheck: false },
      network: { options: { deepSupervision: false } },
    });
  });

  it('refuse a bad --augmentation or --data-workers with one line naming the flag', () => {
    expect(() => trainFlagsToLayer(parse('--augmentation', 'da5'))).toThrow(/^--augmentation: expected da4 or none, got da5/);
    expect(() => trainFlagsToLayer({ dataWorkers: -1 })).toThrow('--data-workers: expected a non-negative integer, got -1');
  });

  it('round-trip through arguments for tasks started elsewhere', () => {
    const flags = parse('--epochs', '2', '--cache-dir', 'cache', '--no-deep-supervision', '--plugin', './p.mjs');
    const args = trainFlagsToArgs(flags);
    expect(args).toEqual(['--epochs', '2', '--cache-dir', path.resolve('cache'), '--no-deep-supervision', '--plugin', path.resolve('p.mjs')]);
    // The task's layer is the command's, with the cache folder made absolute.
    expect(trainFlagsToLayer(parse(...args))).toEqual(trainFlagsToLayer({ ...flags, cacheDir: path.resolve('cache') }));
  });
});
