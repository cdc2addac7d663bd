import { Rng, type Augmenter, type Batch, type BatchProvider, type CaseData, type Shape3, type Shape4, type TargetEncoding } from '@voxseg/core';
import { isForegroundSample } from './foreground-index.js';
import { PatchSampler } from './patch-sampler.js';

/** Options of a {@link PatchBatchProvider}. */
export interface PatchBatchProviderOptions {
  /** Loaded, preprocessed, labelled cases (e.g. one fold's training cases). */
  cases: readonly CaseData[];
  /** How label maps become target channels (a dataset's `targets`, e.g. BraTS WT/TC/ET). */
  targets: TargetEncoding;
  /** Patch spatial shape [D, H, W]. docs/method.md: 128^3. */
  patchSize: Shape3;
  /** Samples per batch. docs/method.md: 2. */
  batchSize: number;
  /** Seed of the provider; batch `i` uses a generator derived from `(seed, i)` only. */
  seed: number | string;
  /** Augmenters in pipeline order (training: `da4Pipeline()`); default none (validation). */
  augmenters?: readonly Augmenter[];
  /**
   * Fraction of each batch centred on foreground, taken from the end of the batch
   * (nnU-Net v1 `oversample_foreground_percent`, default 0.33; at least one sample when > 0).
   */
  oversampleForegroundPercent?: number;
}

/**
 * A {@link BatchProvider} of augmented patches from in-memory cases.
 *
 * `batch(index)` is a pure function of the construction and `index`: it seeds a fresh
 * {@link Rng} from `(seed, index)` ({@link batchRng}) and gives each sample its own forked stream, so batches
 * can be computed in any order (exact resume, prefetching) and a sample's augmentation does
 * not depend on how many random numbers the previous sample drew.
 */
export class PatchBatchProvider implements BatchProvider {
  readonly patchShape: Shape4;
  readonly batchSize: number;
  readonly targetChannels: string[];
  private readonly sampler: PatchSampler;
  private readonly seed: string;
  private readonly targets: TargetEncoding;
  private readonly percent: number;

  constructor(options: PatchBatchProviderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`PatchBatchProvider: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.sampler = new PatchSampler(options.cases, { patchSize: options.patchSize, augmenters: options.augmenters ?? [] });
    const [D, H, W] = this.sampler.patchSize;
    this.patchShape = [D, H, W, this.sampler.channels];
    this.batchSize = options.batchSize;
    this.targets = options.targets;
    this.targetChannels = [...options.targets.channels];
    this.seed = String(options.seed);
    this.percent = options.oversampleForegroundPercent ?? 0.33;
  }

  /** Batch `index` (any non-negative integer), always the same for the same index. */
  async batch(index: number): Promise<Batch> {
    return this.batchSync(index);
  }

  /** Synchronous form of {@link batch}, for worker threads and benchmarks. */
  batchSync(index: number): Batch {
    const patches = drawBatchPatches(this.sampler, this.seed, index, this.batchSize, this.percent);
    return encodeBatch(patches, this.patchShape, this.targets);
  }

  dispose(): void {
    // Nothing held beyond the cases passed in (owned by the caller).
  }
}

/** The patches of one batch before target encoding (what a worker thread computes). */
export interface BatchPatches {
  /** Images [N, D, H, W, C]. */
  image: Float32Array;
  /** Label patches [N, D, H, W] (zeros for unlabelled cases). */
  labels: Uint8Array;
  /** Whether sample b came from a labelled case. */
  labelled: boolean[];
  /** Case id of each sample. */
  caseIds: string[];
}

/**
 * Draw the `batchSize` patches of batch `index`: one forked stream of {@link batchRng} per
 * sample, the last `round(percent * batchSize)` (at least one) centred on foreground.
 */
export function drawBatchPatches(sampler: PatchSampler, seed: string | number, index: number, batchSize: number, percent: number): BatchPatches {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`PatchBatchProvider.batch: index must be a non-negative integer, got ${index}`);
  const [D, H, W] = sampler.patchSize;
  const C = sampler.channels;
  const n = D * H * W;
  const image = new Float32Array(batchSize * n * C);
  const labels = new Uint8Array(batchSize * n);
  const labelled: boolean[] = [];
  const caseIds: string[] = [];
  const rng = batchRng(seed, index);
  for (let b = 0; b < batchSize; b++) {
    const sampleRng = rng.fork();
    const { sample, caseId } = sampler.sample(sampleRng, isForegroundSample(b, batchSize, percent));
    image.set(sample.image, b * n * C);
    if (sample.label) labels.set(sample.label, b * n);
    labelled.push(sample.label !== undefined);
    caseIds.push(caseId);
  }
  return { image, labels, labelled, caseIds };
}

/** Turn drawn patches into a {@link Batch}: targets [N, D, H, W, K] from `targets.encode`. */
export function encodeBatch(patches: BatchPatches, patchShape: Shape4, targets: TargetEncoding): Batch {
  const [D, H, W, C] = patchShape;
  const n = D * H * W;
  const N = patches.caseIds.length;
  const K = targets.channels.length;
  const target = new Uint8Array(N * n * K);
  for (let b = 0; b < N; b++) {
    if (!patches.labelled[b]) continue;
    const t = targets.encode(patches.labels.subarray(b * n, (b + 1) * n), [D, H, W]);
    if (t.length !== n * K) throw new Error(`PatchBatchProvider: target encoding returned ${t.length} values, expected ${n * K} ([D,H,W,K] with K=${K})`);
    target.set(t, b * n * K);
  }
  return { image: patches.image, shape: [N, D, H, W, C], target, targetChannels: K, caseIds: patches.caseIds };
}

/**
 * The generator of batch `index` for a provider seeded with `seed`: a 128-bit xoshiro state
 * made of four independently hashed words (`"<k>:<seed>:<index>"` for k = a, b, c, d, each
 * through core's string seeding). A single 32-bit string hash would make two of the 250,000
 * batches of a 1000-epoch run collide with noticeable probability; four words do not (the
 * discriminator comes first so that a hash collision of one word does not carry over).
 */
export function batchRng(seed: string | number, index: number): Rng {
  const s = ['a', 'b', 'c', 'd'].map((k) => new Rng(`${k}:${seed}:${index}`).nextUint32()) as [number, number, number, number];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return Rng.fromState({ s, spareNormal: null });
}
