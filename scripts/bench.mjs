#!/usr/bin/env node
/**
 * `npm run bench`: the repository's benchmarks, side by side, in one run.
 *
 * 1. `voxseg bench conv3d` (forward + both gradients, 64^3, 32 -> 32) on `native`, and on
 *    `cpu` at a small size (pure JS runs conv3d at ~0.5 GFLOP/s);
 * 2. `voxseg bench train-step` (BL at the published patch and batch, 128^3 batch 2) on
 *    `native`, and a small one on `cpu`;
 * 3. `voxseg bench inference`: a whole BraTS-size case (155x240x240x4, BL, patch 128, step
 *    0.5), without and with 8-way TTA, on `native`;
 * 4. the same conv3d, training step and whole-case inference in PyTorch
 *    (scripts/torch_bench.py) when a python3 with torch is found, with the ratios;
 * 5. every `packages/<pkg>/bench/index.mjs` that exports `run()`, each in its own process.
 * Then a summary. Each part runs in a child process, so one failure does not stop the rest.
 *
 * Needs the packages built (`npm run build`). Flags: `--quick` (small sizes, for a smoke
 * run), `--skip-packages`, `--only PARTS` (a comma list of conv3d, train, infer, tta,
 * packages: the whole run takes over an hour on a 2-core machine, most of it the two TTA
 * cases), `--json` (last line: every figure as one JSON object).
 * PyTorch runs with the same OMP_WAIT_POLICY as the native backend (passive unless set):
 * on a shared machine spinning OpenMP threads slow both down, and the comparison should
 * measure the kernels, not the scheduler.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
const quick = args.has('--quick');
const PARTS = ['conv3d', 'train', 'infer', 'tta', 'packages'];
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : PARTS;
const unknown = only.filter((p) => !PARTS.includes(p));
if (onlyAt >= 0 && (only.length === 0 || unknown.length > 0)) {
  console.error(`scripts/bench.mjs: --only takes a comma list of ${PARTS.join(', ')}; got '${argv[onlyAt + 1] ?? ''}'`);
  process.exit(2);
}
const want = (part) => only.includes(part);
const skipped = { skipped: 'not in --only' };
const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' };
const cli = join(root, 'packages', 'cli', 'dist', 'bin.js');
const results = {};
const lines = [];

function lastJson(stdout) {
  const last = stdout.trim().split('\n').filter(Boolean).pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}

/** Run a command, echo its output, return the JSON object on its last stdout line (or an error). */
function run(label, cmd, argv) {
  process.stdout.write(`\n== ${label}\n`);
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = (r.stdout ?? '').replace(/^=+\n.*tfjs-node.*\n=+\n/gm, '');
  process.stdout.write(out);
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').filter((l) => l && !/tfjs-node|^=+$/.test(l)).pop() ?? `exit ${r.status}`;
    process.stdout.write(`   failed: ${why}\n`);
    return { error: why };
  }
  const j = lastJson(out) ?? { error: 'no JSON on the last line' };
  // The child's own figure (e.g. a case's inference time) stays `seconds`; the process's wall
  // time, which adds Node's start-up and model building, is kept apart.
  j.processSeconds = (Date.now() - t0) / 1000;
  j.seconds ??= j.processSeconds;
  return j;
}

if (!existsSync(cli)) {
  console.error(`scripts/bench.mjs: ${cli} is missing; run \`npm run build\` first`);
  process.exit(1);
}

// Which python has torch? The first that imports it.
function findTorchPython() {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}
const python = findTorchPython();

const conv = quick ? { size: 32, channels: 16 } : { size: 64, channels: 32 };
const step = quick ? { patch: 32, batch: 1, steps: 1 } : { patch: 128, batch: 2, steps: 2 };
// A whole case, as `voxseg predict` segments it; --quick: a small volume and patch.
const infer = quick ? { shape: '40,48,48,4', patch: 32, step: 0.5 } : { shape: '155,240,240,4', patch: 128, step: 0.5 };
const cpuConv = { size: 16, channels: 8 };
const cpuStep = { patch: 16, batch: 1, steps: 1 };

if (want('conv3d')) {
  results.conv3dNative = run(`conv3d ${conv.size}^3 ${conv.channels}->${conv.channels}, native`, process.execPath, [cli, 'bench', 'conv3d', '--backend', 'native', '--size', `${conv.size}`, '--channels', `${conv.channels}`, '--json']);
  results.conv3dTorch = python
    ? run(`conv3d ${conv.size}^3 ${conv.channels}->${conv.channels}, PyTorch (${python})`, python, ['scripts/torch_bench.py', '--only', 'conv3d', '--size', `${conv.size}`, '--channels', `${conv.channels}`])?.conv3d ?? { error: 'no result' }
    : { skipped: 'no python3 with torch (install python3-torch for the reference)' };
  results.conv3dCpu = run(`conv3d ${cpuConv.size}^3 ${cpuConv.channels}->${cpuConv.channels}, cpu (small: pure JS)`, process.execPath, [cli, 'bench', 'conv3d', '--backend', 'cpu', '--size', `${cpuConv.size}`, '--channels', `${cpuConv.channels}`, '--repeats', '1', '--json']);
  results.conv3dNativeSmall = run(`conv3d ${cpuConv.size}^3 ${cpuConv.channels}->${cpuConv.channels}, native (same small size)`, process.execPath, [cli, 'bench', 'conv3d', '--backend', 'native', '--size', `${cpuConv.size}`, '--channels', `${cpuConv.channels}`, '--json']);
} else {
  for (const k of ['conv3dNative', 'conv3dTorch', 'conv3dCpu', 'conv3dNativeSmall']) results[k] = skipped;
}

if (want('train')) {
  results.trainNative = run(`train-step BL ${step.patch}^3 batch ${step.batch}, native`, process.execPath, [cli, 'bench', 'train-step', '--backend', 'native', '--variant', 'BL', '--patch', `${step.patch}`, '--batch', `${step.batch}`, '--steps', `${step.steps}`, '--json']);
  results.trainTorch = python
    ? run(`train-step BL ${step.patch}^3 batch ${step.batch}, PyTorch`, python, ['scripts/torch_bench.py', '--only', 'train-step', '--variant', 'BL', '--patch', `${step.patch}`, '--batch', `${step.batch}`, '--steps', `${step.steps}`])?.trainStep ?? { error: 'no result' }
    : { skipped: 'no python3 with torch' };
  results.trainCpu = run(`train-step BL ${cpuStep.patch}^3 batch ${cpuStep.batch}, cpu (small: pure JS)`, process.execPath, [cli, 'bench', 'train-step', '--backend', 'cpu', '--variant', 'BL', '--patch', `${cpuStep.patch}`, '--batch', `${cpuStep.batch}`, '--steps', `${cpuStep.steps}`, '--json']);
  results.trainNativeSmall = run(`train-step BL ${cpuStep.patch}^3 batch ${cpuStep.batch}, native (same small size)`, process.execPath, [cli, 'bench', 'train-step', '--backend', 'native', '--variant', 'BL', '--patch', `${cpuStep.patch}`, '--batch', `${cpuStep.batch}`, '--steps', `${cpuStep.steps}`, '--json']);
} else {
  for (const k of ['trainNative', 'trainTorch', 'trainCpu', 'trainNativeSmall']) results[k] = skipped;
}

for (const tta of [false, true]) {
  const key = tta ? 'inferTta' : 'infer';
  if (!want(tta ? 'tta' : 'infer')) {
    results[`${key}Native`] = skipped;
    results[`${key}Torch`] = skipped;
    continue;
  }
  const label = `inference BL case ${infer.shape}, patch ${infer.patch}, step ${infer.step}${tta ? ', 8-way TTA' : ''}`;
  const flag = tta ? ['--tta'] : [];
  results[`${key}Native`] = run(`${label}, native`, process.execPath, [cli, 'bench', 'inference', '--backend', 'native', '--variant', 'BL', '--shape', infer.shape, '--patch', `${infer.patch}`, '--step', `${infer.step}`, ...flag, '--json']);
  results[`${key}Torch`] = python
    ? run(`${label}, PyTorch`, python, ['scripts/torch_bench.py', '--only', 'inference', '--variant', 'BL', '--shape', infer.shape, '--patch', `${infer.patch}`, '--step', `${infer.step}`, ...flag])?.inference ?? { error: 'no result' }
    : { skipped: 'no python3 with torch' };
}

// Every package's bench/index.mjs that exports run(), each in its own process.
if (!args.has('--skip-packages') && want('packages')) {
  results.packages = {};
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', pkg, 'bench', 'index.mjs');
    if (!existsSync(file)) continue;
    const code = `const m = await import(${JSON.stringify(pathToFileURL(file).href)});
      if (typeof m.run !== 'function') { console.log(JSON.stringify({ skipped: 'no exported run()' })); process.exit(0); }
      const r = await m.run();
      console.log(JSON.stringify(r ?? {}));`;
    results.packages[pkg] = run(`packages/${pkg}/bench/index.mjs`, process.execPath, ['--input-type=module', '-e', code]);
  }
}

// Summary.
const fmt = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : 'n/a');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
lines.push('', '== summary (figures from this run; the machine may be shared, so compare within the run)');
if (want('conv3d')) lines.push(`conv3d ${conv.size}^3 ${conv.channels}->${conv.channels} fwd+bwd GFLOP/s: native ${fmt(results.conv3dNative.gflops)}, PyTorch ${fmt(results.conv3dTorch.gflops)}, native/PyTorch ${ratio(results.conv3dNative.gflops, results.conv3dTorch.gflops)} (target >= 1.0, aim 1.5)`);
if (want('conv3d')) lines.push(`conv3d ${cpuConv.size}^3 ${cpuConv.channels}->${cpuConv.channels} GFLOP/s: native ${fmt(results.conv3dNativeSmall.gflops)}, cpu ${fmt(results.conv3dCpu.gflops, 2)}, native/cpu ${ratio(results.conv3dNativeSmall.gflops, results.conv3dCpu.gflops)}`);
if (want('train')) lines.push(`train-step BL ${step.patch}^3 batch ${step.batch} ms/step: native ${fmt(results.trainNative.msPerStep, 0)}, PyTorch ${fmt(results.trainTorch.msPerStep, 0)}, native/PyTorch time ${ratio(results.trainNative.msPerStep, results.trainTorch.msPerStep)} (target ${step.patch === 128 ? '<= 0.5' : '<= 1.5'}), native peak RSS ${fmt(results.trainNative.peakRssMb, 0)} MB`);
if (want('train')) lines.push(`train-step BL ${cpuStep.patch}^3 batch ${cpuStep.batch} ms/step: native ${fmt(results.trainNativeSmall.msPerStep, 0)}, cpu ${fmt(results.trainCpu.msPerStep, 0)}, cpu/native time ${ratio(results.trainCpu.msPerStep, results.trainNativeSmall.msPerStep)}`);
for (const tta of [false, true]) {
  if (!want(tta ? 'tta' : 'infer')) continue;
  const n = results[tta ? 'inferTtaNative' : 'inferNative'];
  const t = results[tta ? 'inferTtaTorch' : 'inferTorch'];
  const target = quick ? '' : tta ? ' (target: native <= 480 s)' : ' (target: native <= 60 s, >= 3.5x faster than PyTorch)';
  lines.push(`inference BL case ${infer.shape} patch ${infer.patch}${tta ? ' 8-way TTA' : ''} s/case: native ${fmt(n.seconds)}, PyTorch ${fmt(t.seconds)}, PyTorch/native time ${ratio(t.seconds, n.seconds)}${target}`);
}
for (const [pkg, r] of Object.entries(results.packages ?? {})) lines.push(`packages/${pkg}: ${r.error ? `failed: ${r.error}` : `done in ${fmt(r.processSeconds)} s`}`);
process.stdout.write(`${lines.join('\n')}\n`);
if (args.has('--json')) process.stdout.write(`${JSON.stringify(results)}\n`);
