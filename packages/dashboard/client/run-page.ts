// One run, live: stats, nnU-Net's progress panels, smoothing, controls, log tail, final metrics.
import { RunState, smooth } from '../src/series/run-state.js';
import { type ChartPoint, LiveChart } from './charts.js';
import { api, esc, fmtBytes, fmtDuration, fmtNum, followEvents, link, metricsTable, param, setWhere } from './common.js';

const REGION_COLOURS: Record<string, string> = { WT: '#2e90fa', TC: '#f04438', ET: '#fdb022' };

const id = param('id') ?? '';
const state = new RunState();
const app = document.getElementById('app')!;
setWhere(`run <b>${esc(id)}</b>`);
// A run served on its own (train --dashboard) has the id `.`: show its folder's name instead.
if (id === '.') void api<{ root: string }>('/api/runs').then((r) => setWhere(`run <b>${esc(r.root.split(/[\\/]/).pop() ?? id)}</b>`), () => undefined);
app.innerHTML = `
<div class="stats" id="stats"></div>
<div class="controls" id="controls">
  <button id="stop" class="danger" title="finish the current iteration, save 'last', end the run">Stop</button>
  <button id="save" title="write a 'manual' checkpoint after the current iteration">Save checkpoint</button>
  <label>learning rate <input id="lr" type="number" step="any" min="0" placeholder="e.g. 0.001"></label>
  <button id="setlr">Set</button>
  <span id="command-status" class="muted"></span>
</div>
<div class="controls">
  <label>smoothing <input id="smoothing" type="range" min="0" max="0.99" step="0.01" value="0.6"> <span id="smoothing-value">0.60</span></label>
  <label><input id="raw" type="checkbox" checked> show raw</label>
</div>
<div class="charts">
  <div id="chart-loss"></div><div id="chart-dice"></div><div id="chart-epoch-time"></div><div id="chart-lr"></div>
</div>
<h2>Final metrics</h2><div id="metrics" class="muted">not yet (written when the run completes)</div>
<h2>Log</h2><pre class="log" id="log"></pre>`;

const charts = {
  loss: new LiveChart(document.getElementById('chart-loss')!, { title: 'Loss (BCE + Dice term; can be negative)', x: 'epoch', y: 'loss', faint: ['batch (raw)'] }),
  dice: new LiveChart(document.getElementById('chart-dice')!, {
    title: 'Validation pseudo-Dice per region, with EMA',
    x: 'epoch',
    y: 'pseudo-Dice',
    yDomain: [0, 1],
    faint: ['WT', 'TC', 'ET'],
    colours: { WT: REGION_COLOURS.WT!, TC: REGION_COLOURS.TC!, ET: REGION_COLOURS.ET!, 'WT (EMA)': REGION_COLOURS.WT!, 'TC (EMA)': REGION_COLOURS.TC!, 'ET (EMA)': REGION_COLOURS.ET!, 'mean (EMA)': '#12b76a' },
  }),
  epochTime: new LiveChart(document.getElementById('chart-epoch-time')!, { title: 'Epoch duration', x: 'epoch', y: 'seconds' }),
  lr: new LiveChart(document.getElementById('chart-lr')!, { title: 'Learning rate', x: 'epoch', y: 'learning rate' }),
};

const smoothingInput = document.getElementById('smoothing') as HTMLInputElement;
const rawInput = document.getElementById('raw') as HTMLInputElement;

function draw(): void {
  const w = Number(smoothingInput.value);
  const raw = rawInput.checked;
  document.getElementById('smoothing-value')!.textContent = w.toFixed(2);
  const loss: ChartPoint[] = [];
  const batchLoss = state.batches.map((b) => b.loss);
  const smoothed = smooth(batchLoss, w);
  state.batches.forEach((b, i) => {
    if (raw && w > 0) loss.push({ x: b.x, y: b.loss, series: 'batch (raw)' });
    loss.push({ x: b.x, y: smoothed[i]!, series: w > 0 ? 'batch (smoothed)' : 'batch' });
  });
  const trainEpoch = state.epochs.filter((r) => r.trainLoss !== undefined);
  const valEpoch = state.epochs.filter((r) => r.valLoss !== undefined);
  const tl = smooth(trainEpoch.map((r) => r.trainLoss!), raw ? 0 : w);
  const vl = smooth(valEpoch.map((r) => r.valLoss!), raw ? 0 : w);
  trainEpoch.forEach((r, i) => loss.push({ x: r.epoch + 1, y: tl[i]!, series: 'train (epoch)' }));
  valEpoch.forEach((r, i) => loss.push({ x: r.epoch + 1, y: vl[i]!, series: 'validation' }));
  charts.loss.update(loss);

  const dice: ChartPoint[] = [];
  for (const r of state.epochs) {
    for (const [region, d] of Object.entries(r.dice)) if (raw) dice.push({ x: r.epoch + 1, y: d, series: region });
    for (const [region, d] of Object.entries(r.diceEma)) dice.push({ x: r.epoch + 1, y: d, series: `${region} (EMA)` });
    if (r.emaDice !== undefined) dice.push({ x: r.epoch + 1, y: r.emaDice, series: 'mean (EMA)' });
  }
  charts.dice.update(dice);
  charts.epochTime.update(state.epochs.filter((r) => r.seconds !== undefined).map((r) => ({ x: r.epoch + 1, y: r.seconds!, series: 'epoch' })));
  charts.lr.update(state.batches.map((b) => ({ x: b.x, y: b.lr, series: 'learning rate' })));

  const m = state.meta;
  const last = state.lastEpoch();
  const status = m.ended ? m.ended.reason : m.runId ? 'running' : 'waiting';
  const done = m.ended ? m.ended.epochsCompleted : state.epochs.filter((r) => r.trainLoss !== undefined).length;
  const stats: [string, string][] = [
    ['status', `<span class="status ${esc(status)}" id="run-status">${esc(status)}</span>`],
    ['epoch', `${done} / ${m.epochs ?? '?'}`],
    ['iterations/s', fmtNum(state.itPerSecond(), 3)],
    ['ETA', m.ended ? '–' : fmtDuration(state.etaSeconds())],
    ['epoch time', last?.seconds !== undefined ? `${last.seconds.toFixed(1)} s` : '–'],
    ['mean pseudo-Dice (EMA)', fmtNum(last?.emaDice, 3)],
    ['backend', esc(m.backend ?? '–')],
    ['network', `${esc(m.network ?? '–')}${m.parameters ? ` (${m.parameters >= 1e5 ? `${(m.parameters / 1e6).toFixed(2)} M` : m.parameters.toLocaleString('en-US')} parameters)` : ''}`],
    ['memory', last?.memory ? `${fmtBytes(last.memory.bytes)} in ${last.memory.tensors} tensors${last.memory.rss ? `, RSS ${fmtBytes(last.memory.rss)}` : ''}` : '–'],
  ];
  document.getElementById('stats')!.innerHTML = stats.map(([k, v]) => `<div class="stat"><span>${k}</span><b>${v}</b></div>`).join('');
  // Commands reach only a started, unfinished training (the trainer ignores older lines).
  for (const b of ['stop', 'save', 'setlr']) (document.getElementById(b) as HTMLButtonElement).disabled = Boolean(m.ended) || !m.runId;
  const logEl = document.getElementById('log')!;
  const atBottom = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 4;
  logEl.textContent = state.log.slice(-150).join('\n');
  if (atBottom) logEl.scrollTop = logEl.scrollHeight;
  showCommandStatus();
}

// Redraw at most every 300 ms however fast events arrive.
let scheduled = false;
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    draw();
  }, 300);
}
smoothingInput.addEventListener('input', schedule);
rawInput.addEventListener('change', schedule);

async function loadMetrics(): Promise<void> {
  try {
    const metrics = await api<{ cases: Record<string, Record<string, { dice: number | null; hd95: number | null }>>; mean: Record<string, { dice: number | null; hd95: number | null }> }>('/api/run-file', { run: id, name: 'metrics.json' });
    const rows = [{ label: 'mean', metrics: metrics.mean }, ...Object.entries(metrics.cases).map(([c, m]) => ({ label: c, metrics: m }))];
    const el = document.getElementById('metrics')!;
    el.classList.remove('muted');
    el.innerHTML = metricsTable(rows);
  } catch {
    // not written yet
  }
}

let ended = false;
followEvents([id], {
  onReset: () => {
    state.reset();
    schedule();
  },
  onEvents: (_run, events) => {
    for (const e of events) state.add(e);
    if (state.meta.ended && !ended) {
      ended = true;
      // metrics.json is written after the run's own evaluation: look for it a few times.
      for (const ms of [500, 5000, 20000, 60000]) setTimeout(() => void loadMetrics(), ms);
    }
    schedule();
  },
});
void loadMetrics();

// --- controls: commands reach the trainer through the run's commands.jsonl -------------
const sent: { id: string; label: string }[] = [];
function showCommandStatus(): void {
  const el = document.getElementById('command-status')!;
  el.innerHTML = sent
    .slice(-3)
    .map((c) => {
      const ack = state.meta.commands[c.id];
      return `<span data-command="${esc(c.id)}" data-ack="${ack?.status ?? 'pending'}">${esc(c.label)}: ${ack ? esc(ack.status + (ack.message ? ` (${ack.message})` : '')) : 'sent, waiting for the trainer…'}</span>`;
    })
    .join(' · ');
}
async function send(command: Record<string, unknown>, label: string): Promise<void> {
  try {
    const r = await api<{ id: string }>('/api/command', { run: id }, command);
    sent.push({ id: r.id, label });
  } catch (err) {
    sent.push({ id: `error-${sent.length}`, label: `${label} refused: ${(err as Error).message}` });
  }
  showCommandStatus();
}
document.getElementById('stop')!.addEventListener('click', () => {
  if (confirm('Stop this training after the current iteration? (It can be resumed with --resume.)')) void send({ type: 'stop', reason: 'stopped from the dashboard' }, 'stop');
});
document.getElementById('save')!.addEventListener('click', () => void send({ type: 'saveCheckpoint' }, 'save checkpoint'));
document.getElementById('setlr')!.addEventListener('click', () => {
  const lr = Number((document.getElementById('lr') as HTMLInputElement).value);
  void send({ type: 'setLearningRate', lr }, `learning rate ${lr}`);
});

(document.getElementById('home') as HTMLAnchorElement).href = link('/');
