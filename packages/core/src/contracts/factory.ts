import type { ExperimentContext } from '../container/experiment.js';

/**
 * A named, documented factory: what every registry holds. The registry key is `name`.
 *
 * @typeParam T - what the factory creates (a Dataset, a Loss, ...)
 * @typeParam O - the options the factory takes (from a config file or code)
 */
export interface Factory<T, O = Record<string, unknown>> {
  /** Registry key, e.g. `dice-bce`, `RandGamma`, `brats2021`. Case-sensitive. */
  readonly name: string;
  /** One line shown by `voxseg` listings and in error messages. */
  readonly description?: string;
  /** Default options, merged under the caller's options (shallow). */
  readonly defaults?: Partial<O>;
  /**
   * Create a new instance. Called once per use; must not return shared mutable state.
   * @param options the caller's options merged over `defaults`
   * @param ctx the experiment: lets a factory look up other registered parts by name
   */
  create(options: O, ctx: ExperimentContext): T;
}
