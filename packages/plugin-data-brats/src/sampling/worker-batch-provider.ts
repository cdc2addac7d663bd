import { Worker } from 'node:worker_threads';
import { type Batch, type BatchProvider, type CaseData, createExperiment, type ExperimentContext, type PluginSource, type Shape3, type Shape4, type TargetEncoding } from '@voxseg/core';
import { augmentersFromRegistry, type AugmenterSpec } from '../augmentation/augmenter-specs.js';
import { bratsPlugin } from '../plugin.js';
import type { BatchWorkerData } from './batch-worker.js';
import { encodeBatch, type BatchPatches } from './patch-batch-provider.js';

/** Options of a {@link WorkerBatchProvider}. */
export interface WorkerBatchProviderOptions {
  /** Loaded, preprocessed, labelled cases. Copied once into shared memory unless already backed by a SharedArrayBuffer. */
  cases: readonly CaseData[];
  /** How label maps become target channels (encoding runs on the calling thread). */
  targets: TargetEncoding;
  /** Patch spatial shape [D, H, W]. */
  patchSize: Shape3;
  /** Samples per batch. */
  batchSize: number;
  /** Seed; batches equal those of a {@link PatchBatchProvider} with the same seed and augmenters. */
  seed: number | string;
  /**
   * Augmenters as plain data (e.g. `da4Specs()`), created in each worker through the registry
   * of an experiment built from `plugins`. Default none.
   */
  augmentation?: AugmenterSpec[];
  /**
   * Plugin modules each worker loads (an experiment's `pluginSources()`), so any registered
   * augmenter, a user plugin's included, can be named. Default: this package's plugin only.
   */
  plugins?: PluginSource[];
  /** The main thread's experiment, to check the augmenter names here first. Default: this package's plugin only. */
  experiment?: ExperimentContext;
  /** Foreground fraction, as {@link PatchBatchProviderOptions.oversampleForegroundPercent}. Default 0.33. */
  oversampleForegroundPercent?: number;
  /** Worker threads. Default 1. */
  workers?: number;
  /** Batches computed ahead of the last one asked for. Default: the number of workers. */
  prefetch?: number;
  /** The worker script; default the built `batch-worker.js` beside this module. */
  workerUrl?: URL;
}

interface Job {
  resolve(p: BatchPatches): void;
  reject(e: Error): void;
}

/**
 * A {@link BatchProvider} that computes batches in worker threads and prefetches the next
 * ones: `batch(i)` returns the same batch as {@link PatchBatchProvider} (same seed, same
 * augmenters), computed while the caller trains on the previous one. Batches are pure
 * functions of their index, so prefetching never changes results, and resuming at any index
 * is exact. Call {@link dispose} to stop the workers (idle workers do not keep the process alive).
 */
export class WorkerBatchProvider implements BatchProvider {
  readonly patchShape: Shape4;
  readonly batchSize: number;
  readonly targetChannels: string[];
  private readonly targets: TargetEncoding;
  private readonly prefetch: number;
  private readonly pool: { worker: Worker; jobs: Map<number, Job>; failure?: Error }[] = [];
  private readonly pending = new Map<number, Promise<BatchPatches>>();
  private disposed = false;

  constructor(options: WorkerBatchProviderOptions) {
    const { cases, patchSize, batchSize } = options;
    if (cases.length === 0) throw new Error('WorkerBatchProvider: no cases to sample from');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`WorkerBatchProvider: batchSize must be a positive integer, got ${batchSize}`);
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`WorkerBatchProvider: workers must be a positive integer, got ${workers}`);
    this.batchSize = batchSize;
    this.patchShape = [patchSize[0], patchSize[1], patchSize[2], cases[0]!.shape[3]];
    this.targets = options.targets;
    this.targetChannels = [...options.targets.channels];
    this.prefetch = options.prefetch ?? workers;
    // Fail here, in the caller's thread, on unknown names or bad options.
    augmentersFromRegistry(options.augmentation ?? [], options.experiment ?? createExperiment({ plugins: [bratsPlugin()] }));
    const data: BatchWorkerData = {
      cases: cases.map((c) => ({ id: c.meta?.id ?? '?', shape: c.shape, image: shared(c.image), ...(c.label ? { label: shared(c.label) } : {}) })),
      patchSize: [patchSize[0], patchSize[1], patchSize[2]],
      batchSize,
      seed: options.seed,
      percent: options.oversampleForegroundPercent ?? 0.33,
      augmentation: options.augmentation ?? [],
      plugins: [...(options.plugins ?? [])],
    };
    const url = options.workerUrl ?? new URL('./batch-worker.js', import.meta.url);
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(url, { workerData: data });
      const slot: (typeof this.pool)[number] = { worker, jobs: new Map<number, Job>() };
      worker.on('message', (msg: { index: number; patches?: BatchPatches; error?: string }) => {
        const job = slot.jobs.get(msg.index);
        slot.jobs.delete(msg.index);
        if (slot.jobs.size === 0) worker.unref();
        if (!job) return;
        if (msg.error !== undefined) job.reject(new Error(`WorkerBatchProvider: batch ${msg.index}: ${msg.error}`));
        else job.resolve(msg.patches!);
      });
      const fail = (err: Error) => {
        slot.failure ??= err;
        for (const [index, job] of slot.jobs) job.reject(new Error(`WorkerBatchProvider: worker failed on batch ${index}: ${slot.failure.message}`));
        slot.jobs.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
      worker.unref();
      this.pool.push(slot);
    }
  }

  /** Batch `index` (computed in a worker, or already prefetched); also requests the next `prefetch` batches. */
  async batch(index: number): Promise<Batch> {
    if (this.disposed) throw new Error('WorkerBatchProvider: batch() after dispose()');
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`WorkerBatchProvider.batch: index must be a non-negative integer, got ${index}`);
    const wanted = this.request(index);
    for (let k = 1; k <= this.prefetch; k++) this.request(index + k);
    for (const k of this.pending.keys()) if (k < index) this.pending.delete(k);
    try {
      return encodeBatch(await wanted, this.patchShape, this.targets);
    } finally {
      this.pending.delete(index);
    }
  }

  /** Stop the workers. Idempotent; `batch()` afterwards rejects. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.pending.clear();
    for (const s of this.pool) s.failure ??= new Error('disposed');
    await Promise.all(this.pool.map((s) => s.worker.terminate()));
  }

  private request(index: number): Promise<BatchPatches> {
    let p = this.pending.get(index);
    if (!p) {
      const alive = this.pool.filter((s) => !s.failure);
      if (alive.length === 0) return Promise.reject(new Error(`WorkerBatchProvider: every worker has stopped (${this.pool[0]!.failure!.message})`));
      const slot = alive.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
      p = new Promise<BatchPatches>((resolve, reject) => slot.jobs.set(index, { resolve, reject }));
      // Keep the process alive while work is outstanding.
      slot.worker.ref();
      slot.worker.postMessage({ index });
      // A prefetched batch that is never asked for must not raise an unhandled rejection.
      p.catch(() => undefined);
      this.pending.set(index, p);
    }
    return p;
  }
}

/** The same values in shared memory (the array itself when it already is). */
function shared<T extends Float32Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}
