// A cv group: its folds overlaid, with the mean ± std across folds per epoch (as W&B groups runs).
import type { RunGroup, RunInfo } from '../src/runs/run-info.js';
import { type EpochRow, foldBand, RunState } from '../src/series/run-state.js';
import { type ChartPoint, LiveChart } from './charts.js';
import { api, esc, followEvents, link, metricsTable, param, setWhere } from './common.js';

const id = param('id') ?? '.';
const app = document.getElementById('app')!;
setWhere(`cross-validation <b>${esc(id)}</b>`);

async function main(): Promise<void> {
  const data = await api<{ runs: RunInfo[]; groups: RunGroup[] }>('/api/runs');
  const group = data.groups.find((g) => g.id === id);
  if (!group) {
    app.innerHTML = `<p class="status error">no cv group ${esc(id)}</p>`;
    return;
  }
  const folds = data.runs.filter((r) => group.runs.includes(r.id));
  app.innerHTML = `
<table id="folds"><tr><th>fold</th><th>status</th><th>epochs</th></tr>${folds
    .map((r) => `<tr><td><a href="${esc(link('/run', { id: r.id }))}">${esc(r.name)}</a></td><td><span class="status ${esc(r.status)}">${esc(r.status)}</span></td><td>${r.epochsCompleted ?? 0} / ${r.epochs ?? '?'}</td></tr>`)
    .join('')}</table>
<div class="charts" style="margin-top:12px"><div id="chart-dice"></div><div id="chart-train"></div><div id="chart-val"></div></div>
<h2>Cross-validation metrics</h2><div id="metrics" class="muted">written when every fold has completed</div>`;
  const charts = {
    dice: new LiveChart(document.getElementById('chart-dice')!, { title: 'Mean pseudo-Dice (EMA): folds and mean ± std', x: 'epoch', y: 'pseudo-Dice', band: true }),
    train: new LiveChart(document.getElementById('chart-train')!, { title: 'Training loss: folds and mean ± std', x: 'epoch', y: 'loss', band: true }),
    val: new LiveChart(document.getElementById('chart-val')!, { title: 'Validation loss: folds and mean ± std', x: 'epoch', y: 'loss', band: true }),
  };
  const states = new Map(folds.map((r) => [r.id, new RunState(0)]));
  const name = new Map(folds.map((r) => [r.id, r.name]));
  const series = (pick: (r: EpochRow) => number | undefined): ChartPoint[] => {
    const pts: ChartPoint[] = [];
    for (const [run, s] of states) for (const r of s.epochs) {
      const v = pick(r);
      if (v !== undefined) pts.push({ x: r.epoch + 1, y: v, series: name.get(run)! });
    }
    for (const b of foldBand([...states.values()].map((s) => s.epochs), pick)) if (b.n > 1) pts.push({ x: b.epoch + 1, y: b.mean, lo: b.mean - b.std, hi: b.mean + b.std, series: 'mean ± std' });
    return pts;
  };
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    charts.dice.update(series((r) => r.emaDice));
    charts.train.update(series((r) => r.trainLoss));
    charts.val.update(series((r) => r.valLoss));
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setTimeout(draw, 300);
    }
  };
  followEvents(
    folds.map((r) => r.id),
    {
      onReset: (run) => {
        states.get(run)?.reset();
        schedule();
      },
      onEvents: (run, events) => {
        const s = states.get(run);
        if (s) for (const e of events) s.add(e);
        schedule();
      },
    },
  );
  try {
    const m = await api<{ mean: Record<string, { dice: number | null; hd95: number | null }> }>('/api/run-file', { run: id, name: 'metrics.json' });
    const el = document.getElementById('metrics')!;
    el.classList.remove('muted');
    el.innerHTML = metricsTable([{ label: 'mean over all cases', metrics: m.mean }]);
  } catch {
    // not written yet
  }
}

main().catch((err: Error) => {
  app.innerHTML = `<p class="status error">${esc(err.message)}</p>`;
});
