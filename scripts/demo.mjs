#!/usr/bin/env node
// The README's main job: synthesize a small BraTS-like dataset, train a small U-Net on the
// fastest available backend, predict held-out cases, evaluate them, and write a report.
// Every step runs the real `voxseg` CLI, so the demo is also an end-to-end check of it.
//
// Sizes can be changed through environment variables (VOXSEG_DEMO_*), e.g. for a quicker smoke
// run: VOXSEG_DEMO_EPOCHS=2 VOXSEG_DEMO_ITERATIONS=5 npm run demo
//
// The demo also serves `voxseg dashboard` over its output folder from the start, and prints its
// one URL: the training shows live there (and can be stopped from the page), and the held-out
// predictions open in the viewer once written. In a terminal the dashboard keeps serving after
// the demo until Ctrl-C; elsewhere (CI, pipes) it stops with the demo. VOXSEG_DEMO_DASHBOARD=0
// turns it off.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'packages/cli/bin/voxseg.js');
const env = (name, fallback) => process.env[`VOXSEG_DEMO_${name}`] ?? String(fallback);
const cfg = {
  out: path.resolve(env('OUT', path.join(root, 'demo-output'))),
  trainCases: env('CASES', 12),
  testCases: env('TEST_CASES', 6),
  shape: env('SHAPE', '96,96,64'),
  variant: env('VARIANT', 'BL'),
  patch: env('PATCH', 32),
  baseFilters: env('BASE_FILTERS', 8),
  maxFilters: env('MAX_FILTERS', 64),
  epochs: env('EPOCHS', 30),
  iterations: env('ITERATIONS', 25),
  valIterations: env('VAL_ITERATIONS', 4),
  batch: env('BATCH', 2),
  lr: env('LR', 0.01),
  backend: env('BACKEND', 'auto'),
  seed: env('SEED', 12345),
  dashboard: env('DASHBOARD', 1) !== '0',
};
// Targets on synthetic data (issue: the demo must reach them).
const TARGETS = { WT: 0.85, TC: 0.75, ET: 0.65 };

if (!existsSync(path.join(root, 'packages/cli/dist/bin.js'))) {
  console.error('voxseg demo: the packages are not built; run `npm run build` first (npm run demo does)');
  process.exit(1);
}

const t0 = Date.now();
const step = (title, args) => {
  const started = Date.now();
  console.log(`\n== ${title}\n$ voxseg ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, VOXSEG_PROGRESS: process.env.VOXSEG_PROGRESS ?? 'auto' } });
  if (r.status !== 0) {
    console.error(`voxseg demo: step "${title}" failed (exit ${r.status}); see the messages above`);
    process.exit(r.status ?? 1);
  }
  console.log(`   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
};

// The demo owns its output folder; a previous demo's output is kept aside, not deleted.
if (existsSync(cfg.out)) {
  const old = `${cfg.out}.previous`;
  rmSync(old, { recursive: true, force: true });
  renameSync(cfg.out, old);
  console.log(`voxseg demo: the previous demo output was moved to ${old}`);
}
mkdirSync(cfg.out, { recursive: true });
const data = path.join(cfg.out, 'data');
const test = path.join(cfg.out, 'test');
const run = path.join(cfg.out, 'run');
const pred = path.join(cfg.out, 'predictions');
const evaluation = path.join(cfg.out, 'evaluation.json');

// The dashboard runs beside the (synchronous) steps as its own process; its URL line is read
// from a file because the steps block this process's event loop.
let dashboard;
if (cfg.dashboard) {
  const urlFile = path.join(cfg.out, '.dashboard-url');
  const fd = openSync(urlFile, 'w');
  dashboard = spawn(process.execPath, [bin, 'dashboard', '--runs', cfg.out, '--pred', pred, '--images', test, '--evaluation', evaluation], {
    stdio: ['ignore', fd, 'inherit'],
  });
  closeSync(fd);
  const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  let url = '';
  for (let i = 0; i < 600 && !url; i++) {
    sleep(100);
    url = readFileSync(urlFile, 'utf8').split('\n').find((l) => l.startsWith('http')) ?? '';
  }
  rmSync(urlFile, { force: true });
  if (url) console.log(`\nvoxseg demo: live dashboard (training, controls, prediction viewer): ${url}`);
  else console.log('voxseg demo: the dashboard did not start (see above); the demo goes on without it');
  process.on('exit', () => dashboard.kill('SIGTERM'));
  cfg.dashboardUrl = url;
}

step('1/5 synthesize training cases', ['synth', '--out', data, '--cases', cfg.trainCases, '--seed', '1', '--shape', cfg.shape]);
step('2/5 synthesize held-out test cases', ['synth', '--out', test, '--cases', cfg.testCases, '--seed', '2', '--shape', cfg.shape]);
step('3/5 train', [
  'train', '--data', data, '--out', run, '--variant', cfg.variant, '--fold', '0',
  '--epochs', cfg.epochs, '--iterations', cfg.iterations, '--val-iterations', cfg.valIterations,
  '--batch', cfg.batch, '--patch', cfg.patch, '--base-filters', cfg.baseFilters, '--max-filters', cfg.maxFilters,
  '--lr', cfg.lr, '--seed', cfg.seed, '--backend', cfg.backend,
]);
// A training stopped from the dashboard has no final model: predict with its last checkpoint.
const stopped = !existsSync(path.join(run, 'model'));
if (stopped) console.log('voxseg demo: the training was stopped before its end; predicting with its last checkpoint');
step('4/5 predict the held-out cases', ['predict', '--run', run, '--input', test, '--out', pred, '--backend', cfg.backend, '--report', ...(stopped ? ['--checkpoint', 'last'] : [])]);
step('5/5 evaluate', ['evaluate', '--pred', pred, '--gt', test, '--out', evaluation, '--report']);

// One page that points at everything the demo made.
const ev = JSON.parse(readFileSync(evaluation, 'utf8'));
const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
// config.json records the backend the run used under `run` (older runs: `backendSelected`).
const backendUsed = config.run?.backend ?? config.backendSelected;
const rows = Object.entries(TARGETS).map(([r, target]) => {
  const d = ev.mean[r]?.dice ?? NaN;
  return { r, d, hd: ev.mean[r]?.hd95 ?? NaN, target, ok: d >= target };
});
const minutes = (Date.now() - t0) / 60000;
const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>voxseg demo</title>
<style>body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}td,th{border:1px solid #ccc;padding:.3em .7em}table{border-collapse:collapse}img{max-width:100%}</style></head><body>
<h1>voxseg demo</h1>
<p>${cfg.trainCases} synthetic training cases and ${cfg.testCases} held-out cases (${cfg.shape}); ${cfg.variant} U-Net, patch ${cfg.patch}, base filters ${cfg.baseFilters}, ${cfg.epochs} epochs x ${cfg.iterations} iterations on backend <b>${backendUsed}</b>; ${minutes.toFixed(1)} minutes in all.</p>
<h2>Held-out mean Dice / HD95</h2><table><tr><th>region</th><th>Dice</th><th>target</th><th>HD95 (mm)</th></tr>
${rows.map((x) => `<tr><td>${x.r}</td><td>${x.d.toFixed(4)}</td><td>${x.target} ${x.ok ? '&#10003;' : '&#10007;'}</td><td>${x.hd.toFixed(2)}</td></tr>`).join('\n')}</table>
<h2>Training</h2><p><a href="run/report.html">run report</a> (config, curves, fold validation metrics)</p>
<img src="run/plots/loss.png" alt="loss"><img src="run/plots/dice.png" alt="validation Dice">
<h2>Predictions</h2><p><a href="predictions/report/index.html">overlays of every held-out case</a>, <a href="predictions/evaluation-report/index.html">evaluation table</a>, <a href="evaluation.json">evaluation.json</a>, <a href="evaluation.csv">evaluation.csv</a></p>
</body></html>`;
writeFileSync(path.join(cfg.out, 'report.html'), html);

console.log(`\nvoxseg demo finished in ${minutes.toFixed(1)} min on backend ${backendUsed}`);
for (const x of rows) console.log(`  ${x.r}: Dice ${x.d.toFixed(4)} (target ${x.target}) ${x.ok ? 'ok' : 'BELOW TARGET'}   HD95 ${x.hd.toFixed(2)} mm`);
console.log(`report: ${path.join(cfg.out, 'report.html')}`);
if (!rows.every((x) => x.ok)) console.log('note: some held-out Dice values are below the demo targets (see the report).');
if (dashboard && cfg.dashboardUrl && process.stdout.isTTY) {
  console.log(`dashboard: ${cfg.dashboardUrl} (the held-out cases are in its viewer); Ctrl-C to stop it`);
  process.on('SIGINT', () => process.exit(0));
} else if (dashboard) {
  dashboard.kill('SIGTERM');
}
