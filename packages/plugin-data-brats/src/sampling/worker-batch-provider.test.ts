import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { da4Specs } from '../augmentation/augmenter-specs.js';
import { da4Pipeline } from '../augmentation/da4.js';
import { makeCase, testRegions } from '../augmentation/__tests__/fixtures.js';
import { PatchBatchProvider } from './patch-batch-provider.js';
import { WorkerBatchProvider } from './worker-batch-provider.js';

// Worker threads run JavaScript: the test uses the built worker (dist/), which `npm test`
// builds first. Without a build the test is skipped with this message.
const workerUrl = new URL('../../dist/sampling/batch-worker.js', import.meta.url);
const built = existsSync(workerUrl);
if (!built) console.warn(`worker-batch-provider.test: skipped, ${workerUrl.pathname} not built (run the package build first)`);

describe.skipIf(!built)('WorkerBatchProvider', () => {
  const cases = [
    makeCase([20, 22, 24], 'a', [{ start: [3, 3, 3], end: [6, 7, 8], value: 4 }, { start: [10, 10, 10], end: [14, 14, 14], value: 2 }]),
    makeCase([18, 20, 16], 'b', [{ start: [12, 2, 2], end: [15, 5, 9], value: 1 }]),
  ];
  const common = { cases, targets: testRegions, patchSize: [10, 10, 10] as [number, number, number], batchSize: 2, seed: 'w' };

  it('returns exactly the batches of PatchBatchProvider, in any order, while prefetching', async () => {
    const direct = new PatchBatchProvider({ ...common, augmenters: da4Pipeline({ p: 0.5 }) });
    const pooled = new WorkerBatchProvider({ ...common, augmentation: da4Specs().map((s) => ({ ...s, options: { p: 0.5 } })), workers: 2, workerUrl });
    try {
      for (const i of [0, 1, 2, 7, 3, 3, 0]) expect(await pooled.batch(i)).toEqual(await direct.batch(i));
    } finally {
      await pooled.dispose();
    }
    await expect(pooled.batch(0)).rejects.toThrow(/after dispose/);
  });

  it('rejects unknown augmenters in the constructor, before any worker work', () => {
    expect(() => new WorkerBatchProvider({ ...common, augmentation: [{ name: 'RandNope' }], workerUrl })).toThrow(/augmentation\[0\]: Unknown augmenter "RandNope"; registered: .*RandMirror/);
  });

  it('reports errors from the worker with the batch index', async () => {
    const pooled = new WorkerBatchProvider({ ...common, augmentation: [{ name: 'RandGamma', options: { p: 1 } }], workerUrl });
    try {
      await expect(pooled.batch(-1)).rejects.toThrow(/index must be a non-negative integer/);
      expect((await pooled.batch(4)).shape).toEqual([2, 10, 10, 10, 2]);
    } finally {
      await pooled.dispose();
    }
  });
});
