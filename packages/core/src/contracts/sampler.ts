import type { ExperimentContext } from '../container/experiment.js';
import type { Shape3 } from '../volume/types.js';
import type { BatchProvider } from './batch.js';
import type { CaseData, TargetEncoding } from './dataset.js';
import type { PluginSource } from './plugin.js';

/** A component of a pipeline described as data: a registry name and its options. */
export interface ComponentSpec {
  /** Registry name, e.g. `RandGamma`, `poly`, `dice-bce`. */
  name: string;
  /** Options merged over the factory's `defaults`. */
  options?: Record<string, unknown>;
}

/** What a sampler is asked to serve batches from. */
export interface SamplerRequest {
  /** Loaded, preprocessed cases (labelled). */
  cases: readonly CaseData[];
  /** The dataset's label -> target-channel encoding. */
  targets: TargetEncoding;
  /** Patch spatial shape [D, H, W]. */
  patchSize: Shape3;
  /** Samples per batch. */
  batchSize: number;
  /** Seed of the provider: batch `i` must be a pure function of (seed, i) and the data. */
  seed: string;
  /**
   * Augmenters, in order, as registry names and options: resolve them with
   * `ctx.get('augmenter', name)`. Empty for validation batches.
   */
  augmentation: readonly ComponentSpec[];
  /**
   * Where the experiment's plugins come from, so a sampler that computes batches in worker
   * threads can build the same registries there (`experimentFromSources(plugins)`). Plugins
   * added as objects (without `source`) are not in the list.
   */
  plugins: readonly PluginSource[];
  /** True for training batches, false for the validation provider. */
  training: boolean;
}

/**
 * Registry entry for samplers: turns loaded cases into a deterministic {@link BatchProvider}
 * (`patch`, registered by `@voxseg/plugin-data-brats`, is nnU-Net's patch sampler with
 * foreground oversampling; its option `workers` moves sampling and augmentation to threads).
 */
export interface SamplerFactory<O = Record<string, unknown>> {
  readonly name: string;
  readonly description?: string;
  readonly defaults?: Partial<O>;
  create(options: O, request: SamplerRequest, ctx: ExperimentContext): BatchProvider;
}
