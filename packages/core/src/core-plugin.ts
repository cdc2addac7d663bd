import type { Plugin } from './contracts/plugin.js';
import { metricFactories } from './metrics/index.js';
import { polySchedulerFactory } from './training/poly-scheduler.js';

/** Version reported by {@link corePlugin} in runStart and config.json; kept equal to package.json's. */
export const CORE_VERSION = '0.1.0';

/**
 * Core's built-in parts as a plugin, so an experiment lists them like any other:
 * - scheduler `poly` (the default: nnU-Net's lr0 * (1 - epoch/epochs)^0.9, per epoch);
 * - metrics `dice`, `hd95`, `sensitivity`, `specificity` (BraTS empty-mask conventions).
 *
 * ```ts
 * const experiment = createExperiment({ plugins: [corePlugin(), lossesPlugin()] });
 * const poly = experiment.get('scheduler', 'poly').create({}, experiment);
 * ```
 *
 * Registers module-level constant factories (stateless), so adding it to several experiments,
 * or twice to one, is harmless.
 */
export function corePlugin(): Plugin {
  return {
    name: '@voxseg/core',
    version: CORE_VERSION,
    register(ctx) {
      ctx.registerScheduler(polySchedulerFactory);
      for (const metric of metricFactories) ctx.registerMetric(metric);
    },
  };
}
