#!/usr/bin/env node
/**
 * `npm run profile`: where the time of a U-Net forward (inference) and of a training step goes,
 * per tfjs kernel and per network stage, on one backend (default `native`).
 *
 *   npm run profile                                 # BL, patch 128, inference + training step
 *   npm run profile -- --patch 64 --mode infer      # one part, a smaller patch
 *   npm run profile -- --patch 64 --json            # last stdout line: everything as one JSON object
 *
 * Flags: `--variant BL|BL+L|BL+GN|BL+L+GN|BL+AA` (default BL), `--patch P` (default 128),
 * `--backend native|cpu|...` (default native), `--mode infer|train|both` (default both),
 * `--batch B` training batch (default 2), `--windows N` windows per forward (default 1),
 * `--runs R` timed repetitions after one warm-up (default 1), `--no-fold` (inference: run the
 * model as trained, without `prepareForInference`), `--top N` kernel rows printed (default 25),
 * `--json`.
 *
 * How it measures: every kernel registered for the backend is re-registered with a wrapper that
 * times its `kernelFunc` (the cpu and native backends are synchronous, so wall time around the
 * call is the kernel's time; nested kernel calls are counted once, in the innermost kernel).
 * This is what `tf.profile` reports too (its cpu timer is the same wall clock around the call)
 * but without `tf.profile`'s per-kernel bookkeeping, and it can attribute each kernel to the
 * layer whose `call` is running: every top-level layer's `call` is wrapped as well. Layer names
 * give the stage (`enc2_1_conv` -> stage `enc2`, kind `conv`). Backward kernels of a training
 * step run outside any layer's `call`, so they are grouped per kernel under `backward`.
 * "JS outside kernels" is wall time minus kernel time: the engine, tidy/dispose, layer code.
 *
 * Inference is measured as the sliding window runs it (`slidingWindowInference` on a volume of
 * one window, `--windows` times the patch along D): the predictor's time, and the window's own
 * work (gathering the window, sigmoid, Gaussian-weighted accumulation) separately.
 *
 * Every figure is printed with the 1-minute load average at the time: on a shared machine wall
 * times move with the load, the per-op shares much less. Memory: BL at 128^3 needs about 3 GB
 * to predict and far more to train at batch 2 (see the training-memory estimate of
 * `voxseg bench train-step`); keep `--mode infer` at 128^3 on a small machine.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { Experiment, Rng, selectBackend, slidingWindowInference } from '@voxseg/core';
import * as unet from '@voxseg/plugin-unet';
import { axialAttentionPlugin } from '@voxseg/plugin-axial-attention';

const argv = process.argv.slice(2);
function flag(name, def) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`scripts/profile.mjs: --${name} needs a value`);
    process.exit(2);
  }
  return v;
}
function positiveInt(name, def) {
  const v = Number(flag(name, String(def)));
  if (!Number.isInteger(v) || v < 1) {
    console.error(`scripts/profile.mjs: --${name} must be a positive integer, got ${flag(name, '')}`);
    process.exit(2);
  }
  return v;
}
const variant = flag('variant', 'BL');
const patch = positiveInt('patch', 128);
const backend = flag('backend', 'native');
const mode = flag('mode', 'both');
const batch = positiveInt('batch', 2);
const windows = positiveInt('windows', 1);
const runs = positiveInt('runs', 1);
const top = positiveInt('top', 25);
const json = argv.includes('--json');
// prepareForInference: what `voxseg predict` runs (BatchNorm folded, fused kernels, one output).
const fold = !argv.includes('--no-fold') && typeof unet.prepareForInference === 'function';
if (!['infer', 'train', 'both'].includes(mode)) {
  console.error(`scripts/profile.mjs: --mode must be infer, train or both, got ${mode}`);
  process.exit(2);
}

let selected;
try {
  selected = await selectBackend(backend);
} catch (err) {
  console.error(`scripts/profile.mjs: --backend ${backend}: ${err.message}`);
  process.exit(1);
}
const backendName = tf.getBackend();

// ---- timing: kernels and layers -------------------------------------------------------------
/** The record being filled: kernel -> {ms, n}, layer -> {ms, kernelMs}, or null when not recording. */
let rec = null;
/** The layer whose call is running (attribution of kernels), or the phase name outside layers. */
let where = 'other';
let depth = 0;
let childMs = 0;

for (const k of tf.getKernelsForBackend(backendName)) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (rec === null) return inner(args);
      const outerChild = childMs;
      childMs = 0;
      depth++;
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        const total = performance.now() - t0;
        depth--;
        const self = total - childMs; // nested kernels count in their own row
        childMs = outerChild + total;
        const e = rec.kernels.get(k.kernelName) ?? { ms: 0, n: 0 };
        e.ms += self;
        e.n++;
        rec.kernels.set(k.kernelName, e);
        const l = rec.layers.get(where);
        if (l) l.kernelMs += self;
        const kk = `${where}\u0000${k.kernelName}`;
        rec.layerKernels.set(kk, (rec.layerKernels.get(kk) ?? 0) + self);
      }
    },
  });
}

function wrapLayers(model) {
  for (const layer of model.layers) {
    if (layer.__profiled) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => {
      if (rec === null) return call(inputs, kwargs);
      const outer = where;
      where = layer.name;
      const l = rec.layers.get(layer.name) ?? { ms: 0, kernelMs: 0, n: 0, cls: layer.getClassName() };
      rec.layers.set(layer.name, l);
      const t0 = performance.now();
      try {
        return call(inputs, kwargs);
      } finally {
        l.ms += performance.now() - t0;
        l.n++;
        where = outer;
      }
    };
    layer.__profiled = true;
  }
}

function newRecord() {
  return { kernels: new Map(), layers: new Map(), layerKernels: new Map(), phases: {} };
}

/** Stage and kind of a layer from its name: `enc2_1_conv` -> [`enc2`, `conv`]. */
function stageOf(name) {
  const m = /^(enc\d+|dec\d+|head\d+)/.exec(name);
  return m ? m[1] : name;
}
function kindOf(name, cls) {
  if (/^head/.test(name)) return 'head (1x1x1 conv)';
  if (/_up$/.test(name)) return 'transposed conv';
  if (/_concat$/.test(name)) return 'concat';
  if (/_slot/.test(name)) return 'decoder block';
  if (/_norm$/.test(name)) return `norm+act (${cls})`;
  if (/_conv$/.test(name)) return `conv 3x3x3 (${cls})`;
  return cls;
}

const load = () => Number(os.loadavg()[0].toFixed(2));
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

function summarise(r, wallMs, extra = {}) {
  const kernelMs = [...r.kernels.values()].reduce((a, e) => a + e.ms, 0);
  const kernels = [...r.kernels.entries()]
    .map(([name, e]) => ({ name, ms: e.ms / runs, calls: e.n / runs, share: e.ms / (wallMs * runs) }))
    .sort((a, b) => b.ms - a.ms);
  const byKind = new Map();
  const byStage = new Map();
  for (const [name, l] of r.layers) {
    for (const [map, key] of [[byKind, kindOf(name, l.cls)], [byStage, stageOf(name)]]) {
      const e = map.get(key) ?? { ms: 0, kernelMs: 0 };
      e.ms += l.ms;
      e.kernelMs += l.kernelMs;
      map.set(key, e);
    }
  }
  const rows = (map) =>
    [...map.entries()].map(([name, e]) => ({ name, ms: e.ms / runs, kernelMs: e.kernelMs / runs, share: e.ms / (wallMs * runs) })).sort((a, b) => b.ms - a.ms);
  const kindKernels = new Map();
  for (const [kk, ms] of r.layerKernels) {
    const [layer, kernel] = kk.split('\u0000');
    const l = r.layers.get(layer);
    const key = `${l ? kindOf(layer, l.cls) : layer} / ${kernel}`;
    kindKernels.set(key, (kindKernels.get(key) ?? 0) + ms);
  }
  return {
    wallMs: wallMs,
    kernelMs: kernelMs / runs,
    jsOutsideKernelsMs: wallMs - kernelMs / runs,
    ...extra,
    kernels,
    kinds: rows(byKind),
    stages: rows(byStage),
    kindKernels: [...kindKernels.entries()].map(([name, ms]) => ({ name, ms: ms / runs, share: ms / (wallMs * runs) })).sort((a, b) => b.ms - a.ms),
  };
}

// ---- the network ---------------------------------------------------------------------------
const exp = new Experiment().use(unet.unetPlugin());
if (variant === 'BL+AA') exp.use(axialAttentionPlugin());
const model = unet.buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, deepSupervision: true, seed: 0 });
const rng = new Rng(0);
const result = {
  variant,
  patch,
  backend: backendName,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  node: process.version,
};

function printTable(title, s) {
  const lines = [`\n== ${title}`];
  lines.push(`wall ${(s.wallMs / 1000).toFixed(3)} s, in kernels ${(s.kernelMs / 1000).toFixed(3)} s, JS outside kernels ${(s.jsOutsideKernelsMs / 1000).toFixed(3)} s (load ${s.load}, RSS ${s.rssMb} MB)`);
  const row = (name, ms, share, extra = '') => `  ${name.padEnd(46)} ${ms.toFixed(1).padStart(10)} ms ${(100 * share).toFixed(1).padStart(6)} %${extra}`;
  lines.push('per kernel:');
  for (const k of s.kernels.slice(0, top)) lines.push(row(k.name, k.ms, k.share, `  x${k.calls}`));
  if (s.kinds.length) {
    lines.push('per layer kind (layer call time, incl. JS in the layer):');
    for (const k of s.kinds) lines.push(row(k.name, k.ms, k.share));
    lines.push('per stage:');
    for (const k of s.stages) lines.push(row(k.name, k.ms, k.share));
    lines.push('per layer kind and kernel:');
    for (const k of s.kindKernels.slice(0, top)) lines.push(row(k.name, k.ms, k.share));
  }
  console.log(lines.join('\n'));
}

// ---- inference -----------------------------------------------------------------------------
if (mode !== 'train') {
  const net = fold ? await unet.prepareForInference(model) : model;
  wrapLayers(net);
  const shape = [patch * windows, patch, patch, 4];
  const volume = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  let predictMs = 0;
  const predictor = (x) => {
    const t0 = performance.now();
    const out = net.predict(x);
    predictMs += performance.now() - t0;
    return out;
  };
  const once = () => slidingWindowInference(volume, shape, predictor, { patchSize: patch, stepFraction: 1, windowBatchSize: windows });
  const before = tf.memory().numTensors;
  await once(); // warm-up: oneDNN primitives are created on first use
  rec = newRecord();
  predictMs = 0;
  where = 'sliding window';
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const wall = (performance.now() - t0) / runs;
  const r = rec;
  rec = null;
  const s = summarise(r, wall, {
    windows,
    folded: fold,
    predictMs: predictMs / runs,
    slidingWindowJsMs: wall - predictMs / runs,
    perWindowMs: wall / windows,
    load: load(),
    rssMb: rssMb(),
    leakedTensors: tf.memory().numTensors - before,
  });
  result.infer = s;
  if (!json || process.stdout.isTTY) {
    printTable(`inference: ${variant} ${patch}^3, ${windows} window(s) per forward, ${fold ? 'prepareForInference' : 'model as trained'}, on ${backendName}`, s);
    console.log(`  predictor ${(s.predictMs / 1000).toFixed(3)} s; sliding window's own work (gather, sigmoid, Gaussian accumulation) ${(s.slidingWindowJsMs / 1000).toFixed(3)} s; tensors leaked: ${s.leakedTensors}`);
  }
}

// ---- training step -------------------------------------------------------------------------
if (mode !== 'infer') {
  wrapLayers(model);
  const x = tf.tensor(Float32Array.from({ length: batch * patch ** 3 * 4 }, () => rng.normal()), [batch, patch, patch, patch, 4]);
  const targets = model.outputs.map((o) => {
    const s = [batch, ...o.shape.slice(1)];
    return tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s);
  });
  const opt = tf.train.momentum(0.01, 0.99, true);
  const vars = model.trainableWeights.map((w) => w.read());
  const phase = {};
  const step = () => {
    let tf0 = performance.now();
    let tb0 = 0;
    where = 'forward (outside layers)';
    const { value, grads } = tf.variableGrads(() => {
      const outs = [].concat(model.apply(x, { training: true }));
      const loss = tf.addN(outs.map((o, i) => tf.losses.sigmoidCrossEntropy(targets[i], o)));
      tb0 = performance.now();
      phase.forward = (phase.forward ?? 0) + (tb0 - tf0);
      where = 'backward';
      return loss;
    }, vars);
    const t1 = performance.now();
    phase.backward = (phase.backward ?? 0) + (t1 - tb0);
    where = 'optimizer';
    opt.applyGradients(grads);
    tf.dispose(grads);
    value.dataSync();
    value.dispose();
    phase.optimizer = (phase.optimizer ?? 0) + (performance.now() - t1);
    where = 'other';
  };
  step(); // warm-up (also creates the optimizer's accumulators)
  const before = tf.memory().numTensors;
  for (const k of Object.keys(phase)) delete phase[k];
  rec = newRecord();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) step();
  const wall = (performance.now() - t0) / runs;
  const r = rec;
  rec = null;
  const s = summarise(r, wall, {
    batch,
    phases: Object.fromEntries(Object.entries(phase).map(([k, v]) => [k, v / runs])),
    load: load(),
    rssMb: rssMb(),
    leakedTensors: tf.memory().numTensors - before,
  });
  // Backward kernels, grouped per kernel (no layer is running then).
  s.backwardKernels = [...r.layerKernels.entries()]
    .filter(([kk]) => kk.startsWith('backward\u0000'))
    .map(([kk, ms]) => ({ name: kk.split('\u0000')[1], ms: ms / runs, share: ms / (wall * runs) }))
    .sort((a, b) => b.ms - a.ms);
  result.train = s;
  tf.dispose([x, ...targets]);
  if (!json || process.stdout.isTTY) {
    printTable(`training step: ${variant} ${patch}^3 batch ${batch} on ${backendName}`, s);
    console.log(`  phases: ${Object.entries(s.phases).map(([k, v]) => `${k} ${(v / 1000).toFixed(3)} s`).join(', ')}; tensors leaked: ${s.leakedTensors}`);
    console.log('backward, per kernel:');
    for (const k of s.backwardKernels.slice(0, top)) console.log(`  ${k.name.padEnd(46)} ${k.ms.toFixed(1).padStart(10)} ms ${(100 * k.share).toFixed(1).padStart(6)} %`);
  }
}

result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
result.load = os.loadavg().map((v) => Number(v.toFixed(2)));
if (json) console.log(JSON.stringify(result));
else console.log(`\npeak RSS ${result.maxRssMb} MB; load average ${result.load.join(', ')}`);
