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

/** `hd95`: 95th percentile Hausdorff distance in mm (medpy), 0 / 373.12866 for empty masks. */
export const hd95Metric = metricFactory(
  'hd95',
  '95th percentile Hausdorff distance in mm (0 if both masks are empty, 373.12866 if only one is)',
  false,
  (p, r, shape, spacing) => hd95(p, r, shape, spacing),
);

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
export const metricFactories: readonly MetricFactory[] = Object.freeze([
  diceMetric,
  hd95Metric,
  sensitivityMetric,
  specificityMetric,
]);
