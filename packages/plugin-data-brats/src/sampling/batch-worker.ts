/**
 * Worker-thread entry of {@link WorkerBatchProvider}: rebuilds the sampler from plain data
 * (cases in shared memory, augmenters from specs resolved through the same plugins' registries) and answers `{ index }` requests with the
 * batch's patches, computed exactly as {@link PatchBatchProvider} does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type CaseData, createExperiment, experimentFromSources, type PluginSource, type Shape3, type Shape4 } from '@voxseg/core';
import { augmentersFromRegistry, type AugmenterSpec } from '../augmentation/augmenter-specs.js';
import { bratsPlugin } from '../plugin.js';
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
  /**
   * The main thread's plugin sources: the worker loads the same modules into a fresh
   * experiment, so its augmenter registry equals the main thread's. Empty: this package's
   * plugin only.
   */
  plugins: PluginSource[];
}

const init = workerData as BatchWorkerData;
// The sampler reads only `meta.id`, the arrays and the shape of each case.
const cases = init.cases.map((c) => ({ meta: { id: c.id }, image: c.image, shape: c.shape, label: c.label }) as unknown as CaseData);
const experiment = init.plugins.length ? await experimentFromSources(init.plugins) : createExperiment({ plugins: [bratsPlugin()] });
const sampler = new PatchSampler(cases, { patchSize: init.patchSize, augmenters: augmentersFromRegistry(init.augmentation, experiment) });

parentPort!.on('message', (msg: { index: number }) => {
  try {
    const p = drawBatchPatches(sampler, init.seed, msg.index, init.batchSize, init.percent);
    parentPort!.postMessage({ index: msg.index, patches: p }, [p.image.buffer as ArrayBuffer, p.labels.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ index: msg.index, error: (err as Error).message ?? String(err) });
  }
});
