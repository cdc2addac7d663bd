import { pluginVersion } from './container/plugin-loader.js';
import type { Plugin } from './contracts/plugin.js';
import { metricFactories } from './metrics/index.js';
import { adamwOptimizerFactory } from './training/adamw.js';
import { polySchedulerFactory } from './training/poly-scheduler.js';
import { pseudoDiceCriterionFactory } from './training/pseudo-dice.js';
import { sgdOptimizerFactory } from './training/sgd.js';
import { warmupCosineSchedulerFactory } from './training/warmup-cosine-scheduler.js';

/** Version reported by {@link corePlugin} in runStart and config.json: package.json's. */
export const CORE_VERSION: string = pluginVersion(import.meta.url);

/**
 * Core's built-in parts as a plugin, so an experiment lists them like any other:
 * - optimizers `sgd` (the default: nnU-Net's SGD, Nesterov momentum 0.99) and `adamw`;
 * - schedulers `poly` (the default: nnU-Net's lr0 * (1 - epoch/epochs)^0.9, per epoch) and
 *   `warmup-cosine` (linear warm-up, then cosine decay, per iteration);
 * - the validation criterion `pseudo-dice` (nnU-Net's online validation, the default);
 * - metrics `dice`, `hd95`, `sensitivity`, `specificity` (empty-mask conventions in their docs).
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
      ctx.registerOptimizer(sgdOptimizerFactory);
      ctx.registerOptimizer(adamwOptimizerFactory);
      ctx.registerScheduler(polySchedulerFactory);
      ctx.registerScheduler(warmupCosineSchedulerFactory);
      ctx.registerCriterion(pseudoDiceCriterionFactory);
      for (const metric of metricFactories) ctx.registerMetric(metric);
    },
  };
}
