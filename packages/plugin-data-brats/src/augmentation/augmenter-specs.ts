import { Experiment, type Augmenter, type AugmenterFactory, type ExperimentContext } from '@voxseg/core';
import { DA4_ORDER } from './da4.js';

/**
 * An augmenter described as plain data (a registry name and options), so that a pipeline can
 * be written in a config file or rebuilt in a worker thread.
 */
export interface AugmenterSpec {
  /** Registry name, e.g. `RandGamma`. */
  name: string;
  /** Options merged over the factory's defaults. */
  options?: Record<string, unknown>;
}

/** The DA4 preset as specs (same augmenters as {@link da4Pipeline}). */
export function da4Specs(): AugmenterSpec[] {
  return DA4_ORDER.map((name) => ({ name }));
}

/**
 * Create augmenters from specs, looking names up in `factories` (a list, or an experiment's
 * augmenter registry through `ctx`). Throws one line listing the known names when a name is
 * unknown.
 */
export function augmentersFromSpecs(specs: readonly AugmenterSpec[], factories: readonly AugmenterFactory<any>[], ctx: ExperimentContext = new Experiment()): Augmenter[] {
  return specs.map((spec, i) => {
    const f = factories.find((x) => x.name === spec?.name);
    if (!f) throw new Error(`augmentation[${i}]: unknown augmenter ${JSON.stringify(spec?.name)}; known: ${factories.map((x) => x.name).join(', ')}`);
    return f.create({ ...(f.defaults ?? {}), ...(spec.options ?? {}) }, ctx);
  });
}

/**
 * Create augmenters from specs through an experiment's augmenter registry (so a plugin's
 * augmenters work as well as this package's). Throws one line naming the position and listing
 * the registered augmenters when a name is unknown.
 */
export function augmentersFromRegistry(specs: readonly AugmenterSpec[], ctx: ExperimentContext): Augmenter[] {
  const registry = ctx.registry('augmenter');
  return specs.map((spec, i) => {
    let f: AugmenterFactory<any>;
    try {
      f = registry.get(spec?.name);
    } catch (err) {
      throw new Error(`augmentation[${i}]: ${(err as Error).message}`);
    }
    return f.create({ ...(f.defaults ?? {}), ...(spec.options ?? {}) }, ctx);
  });
}
