import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TrainingEvent } from '@voxseg/core';
import { writeFileAtomic as writeAtomic } from '@voxseg/core';

const writeFileAtomic = (file: string, data: string | Uint8Array) => writeAtomic(file, data, { mkdir: true });
import { lineChartSpec, renderChart, type SeriesPoint } from './charts.js';
import { esc, type EvaluationJson, metricsTable, page } from './html.js';

/** Read `events.jsonl` (one event per line); unreadable trailing lines (a crash mid-write) are skipped. */
export async function readEvents(file: string): Promise<TrainingEvent[]> {
  const text = await fs.readFile(file, 'utf8');
  const out: TrainingEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TrainingEvent);
    } catch {
      // a line cut by an interrupted run: ignore it, the rest is valid
    }
  }
  return out;
}

/** The series the training curves show, extracted from the event stream. */
export function curveSeries(events: TrainingEvent[]): { loss: SeriesPoint[]; lr: SeriesPoint[]; dice: SeriesPoint[] } {
  const loss: SeriesPoint[] = [];
  const lr: SeriesPoint[] = [];
  const dice: SeriesPoint[] = [];
  let perEpoch = 1;
  for (const e of events) {
    switch (e.type) {
      case 'runStart':
        perEpoch = Math.max(1, e.iterationsPerEpoch);
        break;
      case 'batchEnd':
        loss.push({ x: e.epoch + (e.iteration + 1) / perEpoch, y: e.loss, series: 'train (batch)' });
        break;
      case 'epochStart':
        lr.push({ x: e.epoch, y: e.lr, series: 'learning rate' });
        break;
      case 'epochEnd':
        loss.push({ x: e.epoch + 1, y: e.trainLoss, series: 'train (epoch mean)' });
        if (e.emaDice !== undefined) dice.push({ x: e.epoch + 1, y: e.emaDice, series: 'mean (EMA)' });
        break;
      case 'validationEnd':
        loss.push({ x: e.epoch + 1, y: e.loss, series: 'validation' });
        for (const [region, d] of Object.entries(e.dice)) dice.push({ x: e.epoch + 1, y: d, series: region });
        break;
      default:
        break;
    }
  }
  // A resumed run repeats no events, but keep only the last value per (series, x) to be safe.
  const dedupe = (pts: SeriesPoint[]) => [...new Map(pts.map((p) => [`${p.series}@${p.x}`, p])).values()];
  return { loss: dedupe(loss), lr: dedupe(lr), dice: dedupe(dice) };
}

/** Paths written by {@link writeRunReport}. */
export interface RunReportFiles {
  html: string;
  plots: string[];
}

/**
 * Write a run's training curves (`plots/{loss,lr,dice}.{svg,png}`) and `report.html` with the
 * config, the curves and the metrics (from `metrics.json` when present).
 */
export async function writeRunReport(runDir: string): Promise<RunReportFiles> {
  const events = await readEvents(path.join(runDir, 'events.jsonl'));
  const config = await readJson(path.join(runDir, 'config.json'));
  const metrics = (await readJson(path.join(runDir, 'metrics.json'))) as EvaluationJson | Record<string, unknown> | undefined;
  const { loss, lr, dice } = curveSeries(events);
  const charts: { name: string; title: string; svg: string }[] = [];
  const plots: string[] = [];
  const specs = [
    { name: 'loss', title: 'Loss (BCE + Dice term; can be negative)', pts: loss, axes: { x: 'epoch', y: 'loss' } },
    { name: 'lr', title: 'Learning rate', pts: lr, axes: { x: 'epoch', y: 'learning rate' } },
    { name: 'dice', title: 'Validation pseudo-Dice per region', pts: dice, axes: { x: 'epoch', y: 'Dice', yDomain: [0, 1] as [number, number] } },
  ];
  for (const s of specs) {
    if (s.pts.length === 0) continue;
    const chart = await renderChart(lineChartSpec(s.title, s.pts, s.axes));
    const svgFile = path.join(runDir, 'plots', `${s.name}.svg`);
    const pngFile = path.join(runDir, 'plots', `${s.name}.png`);
    await writeFileAtomic(svgFile, chart.svg);
    await writeFileAtomic(pngFile, chart.png);
    plots.push(svgFile, pngFile);
    charts.push({ name: s.name, title: s.title, svg: chart.svg });
  }
  const end = [...events].reverse().find((e) => e.type === 'runEnd');
  let body = '';
  if (end && end.type === 'runEnd') {
    body += `<p>Run ended: <b>${esc(end.reason)}</b> after ${end.epochsCompleted} epoch(s) in ${(end.ms / 1000).toFixed(1)} s${end.message ? ` (${esc(end.message)})` : ''}.</p>`;
  }
  if (metrics && 'mean' in metrics && 'cases' in metrics) {
    body += `<h2>Held-out evaluation</h2>${metricsTable(metrics as EvaluationJson)}`;
  } else if (metrics) {
    body += `<h2>Metrics</h2><pre>${esc(JSON.stringify(metrics, null, 2))}</pre>`;
  }
  body += `<h2>Training curves</h2><div class="charts">${charts.map((c) => c.svg).join('\n') || '<p>No training events recorded.</p>'}</div>`;
  body += `<h2>Configuration</h2><pre>${esc(JSON.stringify(config ?? {}, null, 2))}</pre>`;
  const html = path.join(runDir, 'report.html');
  await writeFileAtomic(html, page(`voxseg run: ${path.basename(path.resolve(runDir))}`, body));
  return { html, plots };
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}
