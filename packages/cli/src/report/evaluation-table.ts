import type { EvaluationResult } from '@voxseg/engine';

/** A fixed-width table: one row per case plus the mean, each metric per region (Dice 4 digits, others 2). */
export function formatEvaluationTable(result: EvaluationResult): string {
  const regions = Object.keys(result.mean);
  const metrics = regions.length ? Object.keys(result.mean[regions[0]!]!) : [];
  const label = (m: string) => (m === 'dice' ? 'Dice' : m === 'hd95' ? 'HD95' : m);
  const digits = (m: string) => (m === 'dice' ? 4 : 2);
  const header = ['case', ...regions.flatMap((r) => metrics.map((m) => `${r} ${label(m)}`))];
  const rows = [
    ...Object.entries(result.cases).map(([id, c]) => [id, ...regions.flatMap((r) => metrics.map((m) => f(c[r]?.[m], digits(m))))]),
    ['mean', ...regions.flatMap((r) => metrics.map((m) => f(result.mean[r]?.[m], digits(m))))],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(0, -1).map(line), line(widths.map((w) => '-'.repeat(w))), line(rows[rows.length - 1]!)].join('\n');
}

function f(v: number | undefined, digits: number): string {
  return v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
}
