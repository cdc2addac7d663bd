import { evaluateRegions, type Shape3 } from '@voxseg/core';

/** Per-region scores as written to JSON (DESIGN.md's `voxseg evaluate` format). */
export type RegionMetrics = Record<string, { dice: number; hd95: number }>;

/** `{"cases": {"<id>": {"WT": {"dice", "hd95"}, ...}}, "mean": {...}}` */
export interface EvaluationResult {
  cases: Record<string, RegionMetrics>;
  mean: RegionMetrics;
  /** Sensitivity and specificity per case and region (for the CSV; not part of the JSON contract). */
  extra?: Record<string, Record<string, { sensitivity: number; specificity: number }>>;
}

/** Score one prediction against its reference (BraTS labels), Dice and HD95 per region. */
export function scoreCase(pred: ArrayLike<number>, ref: ArrayLike<number>, shape: Shape3, spacing: Shape3) {
  const scores = evaluateRegions(pred as Uint8Array, ref as Uint8Array, shape, spacing);
  const metrics: RegionMetrics = {};
  const extra: Record<string, { sensitivity: number; specificity: number }> = {};
  for (const [region, s] of Object.entries(scores)) {
    metrics[region] = { dice: s.dice, hd95: s.hd95 };
    extra[region] = { sensitivity: s.sensitivity, specificity: s.specificity };
  }
  return { metrics, extra };
}

/** Means over cases per region and metric (NaN values are left out, as numpy's nanmean). */
export function meanMetrics(cases: Record<string, RegionMetrics>): RegionMetrics {
  const sums: Record<string, { dice: number[]; hd95: number[] }> = {};
  for (const c of Object.values(cases)) {
    for (const [region, m] of Object.entries(c)) {
      const s = (sums[region] ??= { dice: [], hd95: [] });
      if (Number.isFinite(m.dice)) s.dice.push(m.dice);
      if (Number.isFinite(m.hd95)) s.hd95.push(m.hd95);
    }
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const mean: RegionMetrics = {};
  for (const [region, s] of Object.entries(sums)) mean[region] = { dice: avg(s.dice), hd95: avg(s.hd95) };
  return mean;
}

/** A fixed-width table: one row per case plus the mean, Dice and HD95 per region. */
export function formatEvaluationTable(result: EvaluationResult): string {
  const regions = Object.keys(result.mean);
  const header = ['case', ...regions.flatMap((r) => [`${r} Dice`, `${r} HD95`])];
  const rows = [
    ...Object.entries(result.cases).map(([id, m]) => [id, ...regions.flatMap((r) => [f(m[r]?.dice), f(m[r]?.hd95, 2)])]),
    ['mean', ...regions.flatMap((r) => [f(result.mean[r]?.dice), f(result.mean[r]?.hd95, 2)])],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(0, -1).map(line), line(widths.map((w) => '-'.repeat(w))), line(rows[rows.length - 1]!)].join('\n');
}

/** CSV with every metric (Dice, HD95, sensitivity, specificity) per case and region. */
export function evaluationCsv(result: EvaluationResult): string {
  const regions = Object.keys(result.mean);
  const cols = ['dice', 'hd95', 'sensitivity', 'specificity'] as const;
  const head = ['case', ...regions.flatMap((r) => cols.map((c) => `${r}_${c}`))].join(',');
  const rows = Object.entries(result.cases).map(([id, m]) =>
    [id, ...regions.flatMap((r) => cols.map((c) => {
      const v = c === 'dice' || c === 'hd95' ? m[r]?.[c] : result.extra?.[id]?.[r]?.[c];
      return v === undefined ? '' : String(v);
    }))].join(','),
  );
  const mean = ['mean', ...regions.flatMap((r) => cols.map((c) => (c === 'dice' || c === 'hd95' ? String(result.mean[r]?.[c]) : '')))].join(',');
  return [head, ...rows, mean].join('\n') + '\n';
}

function f(v: number | undefined, digits = 4): string {
  return v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
}
