import type { Shape4 } from '../volume/types.js';

/** One training or validation batch, channels-last, as plain arrays (no tensors). */
export interface Batch {
  /** Images [N, D, H, W, C] float32. */
  image: Float32Array;
  /** [N, D, H, W, C] of `image`. */
  shape: [number, number, number, number, number];
  /** Binary targets [N, D, H, W, K] (0/1), full resolution. */
  target: Uint8Array;
  /** K: number of target channels. */
  targetChannels: number;
  /** Case ids the samples came from (for logs and debugging). */
  caseIds: string[];
}

/**
 * A deterministic source of batches. `batch(index)` must be a pure function of the provider's
 * construction (data, options, seed) and `index`: the same index always gives the same batch.
 * That makes resume exact (continue at the next index) and lets the trainer prefetch
 * `index + 1` while `index` is being trained, possibly in worker threads, with no effect on
 * the result.
 */
export interface BatchProvider {
  /** Patch shape of every batch, [D, H, W, C]. */
  readonly patchShape: Shape4;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Target channel names, e.g. ['WT', 'TC', 'ET']. */
  readonly targetChannels: string[];
  batch(index: number): Promise<Batch>;
  /** Release workers or caches. Idempotent. */
  dispose?(): Promise<void> | void;
}
