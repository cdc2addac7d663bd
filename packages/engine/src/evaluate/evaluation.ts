import type { ComponentSpec, ExperimentContext, Metric, Shape3, TargetEncoding } from '@voxseg/core';
import { EngineError } from '../errors.js';

/** Per-region scores as written to JSON (`voxseg evaluate`'s format: region -> metric -> value). */
export type RegionMetrics = Record<string, Record<string, number>>;

/** `{"cases": {"<id>": {"WT": {"dice", "hd95"}, ...}}, "mean": {...}}` */
export interface EvaluationResult {
  cases: Record<string, RegionMetrics>;
  mean: RegionMetrics;
  /** Extra metrics (sensitivity, specificity) per case and region, for the CSV; not part of the JSON contract. */
  extra?: Record<string, Record<string, Record<string, number>>>;
}

/**
 * The metrics of a config, created from the registry (unknown names fail listing the
 * registered ones). Options: the factory's defaults, then the dataset's `metricOptions` for
 * that metric, then the config's.
 */
export function createMetrics(experiment: ExperimentContext, specs: readonly ComponentSpec[], datasetOptions: Record<string, Record<string, unknown>> = {}): Metric[] {
  return specs.map((spec, i) => {
    try {
      const f = experiment.get('metric', spec.name);
      return f.create({ ...(f.defaults ?? {}), ...(datasetOptions[spec.name] ?? {}), ...(spec.options ?? {}) }, experiment);
    } catch (err) {
      throw new EngineError(`metrics[${i}]: ${(err as Error).message}`);
    }
  });
}

/** One target channel of an encoded label map, as a binary mask. */
function channelMask(encoded: Uint8Array, channels: number, c: number): Uint8Array {
  const n = encoded.length / channels;
  const out = new Uint8Array(n);
  for (let i = 0, j = c; i < n; i++, j += channels) out[i] = encoded[j]!;
  return out;
}

/**
 * Score one prediction against its reference, per target channel of the dataset's encoding
 * (BraTS: WT, TC, ET from labels 0/1/2/4), with each metric (JSON) and each extra metric (CSV).
 */
export function scoreCase(
  pred: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: Shape3,
  spacing: Shape3,
  targets: TargetEncoding,
  metrics: readonly Metric[],
  extraMetrics: readonly Metric[] = [],
): { metrics: RegionMetrics; extra: Record<string, Record<string, number>> } {
  const k = targets.channels.length;
  const p = targets.encode(pred instanceof Uint8Array ? pred : Uint8Array.from(pred), shape);
  const r = targets.encode(ref instanceof Uint8Array ? ref : Uint8Array.from(ref), shape);
  const out: RegionMetrics = {};
  const extra: Record<string, Record<string, number>> = {};
  targets.channels.forEach((region, c) => {
    const pm = channelMask(p, k, c);
    const rm = channelMask(r, k, c);
    out[region] = Object.fromEntries(metrics.map((m) => [m.name, m.compute(pm, rm, shape, spacing)]));
    extra[region] = Object.fromEntries(extraMetrics.map((m) => [m.name, m.compute(pm, rm, shape, spacing)]));
  });
  return { metrics: out, extra };
}



/** Means over cases per region and metric (NaN values are left out, as numpy's nanmean). */
export function meanMetrics(cases: Record<string, RegionMetrics>): RegionMetrics {
  const sums: Record<string, Record<string, number[]>> = {};
  for (const c of Object.values(cases)) {
    for (const [region, m] of Object.entries(c)) {
      const s = (sums[region] ??= {});
      for (const [metric, v] of Object.entries(m)) {
        const list = (s[metric] ??= []);
        if (Number.isFinite(v)) list.push(v);
      }
    }
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const mean: RegionMetrics = {};
  for (const [region, s] of Object.entries(sums)) mean[region] = Object.fromEntries(Object.entries(s).map(([metric, xs]) => [metric, avg(xs)]));
  return mean;
}

/** CSV with every metric (the JSON's, then the extra ones) per case and region, and the means. */
export function evaluationCsv(result: EvaluationResult): string {
  const regions = Object.keys(result.mean);
  const firstCase = Object.keys(result.cases)[0];
  const metricCols = regions.length ? Object.keys(result.mean[regions[0]!]!) : [];
  const extraCols = firstCase && regions.length ? Object.keys(result.extra?.[firstCase]?.[regions[0]!] ?? {}) : [];
  const cols = [...metricCols, ...extraCols];
  const head = ['case', ...regions.flatMap((r) => cols.map((c) => `${r}_${c}`))].join(',');
  const rows = Object.entries(result.cases).map(([id, m]) =>
    [id, ...regions.flatMap((r) => cols.map((c) => {
      const v = metricCols.includes(c) ? m[r]?.[c] : result.extra?.[id]?.[r]?.[c];
      return v === undefined ? '' : String(v);
    }))].join(','),
  );
  const mean = ['mean', ...regions.flatMap((r) => cols.map((c) => (metricCols.includes(c) ? String(result.mean[r]?.[c]) : '')))].join(',');
  return [head, ...rows, mean].join('\n') + '\n';
}
