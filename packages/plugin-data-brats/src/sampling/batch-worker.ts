/**
 * Worker-thread entry of {@link WorkerBatchProvider}: rebuilds the sampler from plain data
 * (cases in shared memory, augmenters from specs) and answers `{ index }` requests with the
 * batch's patches, computed exactly as {@link PatchBatchProvider} does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CaseData, Shape3, Shape4 } from '@voxseg/core';
import { augmenterFactories } from '../augmentation/index.js';
import { augmentersFromSpecs, type AugmenterSpec } from '../augmentation/augmenter-specs.js';
import { drawBatchPatches } from './patch-batch-provider.js';
import { PatchSampler } from './patch-sampler.js';

/** What a batch worker is started with (structured-cloned; the arrays share memory). */
export interface BatchWorkerData {
  cases: { id: string; shape: Shape4; image: Float32Array; label?: Uint8Array }[];
  patchSize: Shape3;
  batchSize: number;
  seed: string | number;
  percent: number;
  augmentation: AugmenterSpec[];
}

const init = workerData as BatchWorkerData;
// The sampler reads only `meta.id`, the arrays and the shape of each case.
const cases = init.cases.map((c) => ({ meta: { id: c.id }, image: c.image, shape: c.shape, label: c.label }) as unknown as CaseData);
const sampler = new PatchSampler(cases, { patchSize: init.patchSize, augmenters: augmentersFromSpecs(init.augmentation, augmenterFactories) });

parentPort!.on('message', (msg: { index: number }) => {
  try {
    const p = drawBatchPatches(sampler, init.seed, msg.index, init.batchSize, init.percent);
    parentPort!.postMessage({ index: msg.index, patches: p }, [p.image.buffer as ArrayBuffer, p.labels.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ index: msg.index, error: (err as Error).message ?? String(err) });
  }
});
