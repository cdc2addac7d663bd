// The run list: every run and cv group under --runs, and the prediction sets; refreshed every 5 s.
import type { RunGroup, RunInfo } from '../src/runs/run-info.js';
import { api, esc, link, setWhere } from './common.js';

interface RunsResponse {
  root: string;
  runs: RunInfo[];
  groups: RunGroup[];
  predictions: { id: string; name: string }[];
}

function runRow(r: RunInfo): string {
  const progress = r.epochs ? `${r.epochsCompleted ?? 0} / ${r.epochs}` : (r.epochsCompleted ?? '–');
  const updated = r.updatedAt ? new Date(r.updatedAt).toLocaleString() : '–';
  return `<tr data-run="${esc(r.id)}"><td><a href="${esc(link('/run', { id: r.id }))}">${esc(r.id)}</a></td><td>${esc(r.variant ?? '–')}</td><td>${r.fold ?? '–'}</td>` +
    `<td><span class="status ${esc(r.status)}">${esc(r.status)}</span></td><td>${progress}</td><td>${esc(r.backend ?? '–')}</td><td>${r.hasMetrics ? 'yes' : ''}</td><td>${esc(updated)}</td></tr>`;
}

async function render(): Promise<void> {
  const data = await api<RunsResponse>('/api/runs');
  setWhere(`<span class="muted">${esc(data.root)}</span>`);
  const app = document.getElementById('app')!;
  let html = '';
  if (data.groups.length) {
    html += '<h2>Cross-validation groups</h2><table id="groups"><tr><th>group</th><th>folds</th><th>running</th><th>metrics</th></tr>';
    for (const g of data.groups) {
      const running = data.runs.filter((r) => g.runs.includes(r.id) && r.status === 'running').length;
      html += `<tr><td><a href="${esc(link('/group', { id: g.id }))}">${esc(g.id === '.' ? g.name : g.id)}</a></td><td>${g.runs.length}</td><td>${running}</td><td>${g.hasMetrics ? 'yes' : ''}</td></tr>`;
    }
    html += '</table>';
  }
  html += `<h2>Runs (${data.runs.length})</h2>`;
  html += data.runs.length
    ? `<table id="runs"><tr><th>run</th><th>variant</th><th>fold</th><th>status</th><th>epochs</th><th>backend</th><th>metrics</th><th>updated</th></tr>${data.runs.map(runRow).join('')}</table>`
    : '<p class="muted">No runs yet: a folder with events.jsonl or config.json (voxseg train --out) appears here as soon as it is created.</p>';
  if (data.predictions.length) {
    html += '<h2>Predictions</h2><ul>';
    for (const p of data.predictions) html += `<li><a href="${esc(link('/viewer', { set: p.id }))}">${esc(p.name)}</a></li>`;
    html += '</ul>';
  }
  html += `<h2>In-browser inference</h2><p><a href="${esc(link('/infer'))}">Segment a case in this browser</a> with a trained run's model.</p>`;
  app.innerHTML = html;
}

const refresh = () =>
  render().catch((err: Error) => {
    document.getElementById('app')!.innerHTML = `<p class="status error">${esc(err.message)}</p>`;
  });
void refresh();
setInterval(() => void refresh(), 5000);
