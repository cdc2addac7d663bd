import type { Metric, MetricFactory } from '../contracts/metric.js';
import { hd95 } from './hausdorff.js';
import { dice, sensitivity, specificity } from './overlap.js';

/** Wraps a mask function as a {@link MetricFactory} whose instances hold no state. */
function metricFactory(
  name: string,
  description: string,
  higherIsBetter: boolean,
  compute: Metric['compute'],
): MetricFactory {
  return Object.freeze({
    name,
    description,
    create: (): Metric => ({ name, higherIsBetter, compute }),
  });
}

/** `dice`: Dice coefficient; 1 when both masks are empty, 0 when only one is. */
export const diceMetric = metricFactory(
  'dice',
  'Dice coefficient (1 if both masks are empty, 0 if only one is)',
  true,
  (p, r) => dice(p, r),
);

/** Options of the `hd95` metric. */
export interface Hd95MetricOptions {
  /** Value when exactly one mask is empty. Default: the diagonal of the image grid in mm. */
  oneEmpty?: number;
}

/**
 * `hd95`: 95th percentile Hausdorff distance in mm (medpy); 0 when both masks are empty,
 * `oneEmpty` when only one is (a dataset's convention, e.g. BraTS: 373.12866, given by the
 * dataset's `metricOptions`).
 */
export const hd95Metric: MetricFactory<Hd95MetricOptions> = Object.freeze({
  name: 'hd95',
  description: '95th percentile Hausdorff distance in mm (0 if both masks are empty, options.oneEmpty or the grid diagonal if only one is)',
  create: (options: Hd95MetricOptions): Metric => ({
    name: 'hd95',
    higherIsBetter: false,
    compute: (p, r, shape, spacing) => hd95(p, r, shape, spacing, options.oneEmpty === undefined ? {} : { oneEmpty: options.oneEmpty }),
  }),
});

/** `sensitivity`: TP / (TP + FN); 1 when the reference is empty. */
export const sensitivityMetric = metricFactory('sensitivity', 'TP / (TP + FN) (1 if the reference is empty)', true, (p, r) =>
  sensitivity(p, r),
);

/** `specificity`: TN / (TN + FP); 1 when there is no background. */
export const specificityMetric = metricFactory('specificity', 'TN / (TN + FP) (1 if there is no background)', true, (p, r) =>
  specificity(p, r),
);

/**
 * Every built-in metric, for registration by core's plugin:
 * `for (const m of metricFactories) ctx.registerMetric(m)`.
 */
export const metricFactories: readonly MetricFactory<any>[] = Object.freeze([
  diceMetric,
  hd95Metric,
  sensitivityMetric,
  specificityMetric,
]);
