#!/usr/bin/env node
/**
 * Where a U-Net training step's time goes on `webgpu`: pipeline compilation against execution,
 * and execution per tfjs kernel (voxseg's WGSL kernels and tfjs-backend-webgpu's own).
 *
 *   node scripts/gpu-step-profile.mjs [--variant BL|BL+AA] [--patch 32] [--base 4] [--top 25] [--json]
 *
 * Needs the packages built (`npm run build`). Without a GPU, point Dawn at SwiftShader first:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node scripts/gpu-step-profile.mjs
 *
 * The step is the one `packages/backend-webgpu/src/training/training-step.test.ts` compares with
 * `cpu` (deep-supervision Dice + BCE, forward + backward, gradients read back), batch 1.
 *
 * How it measures. WebGPU kernels run asynchronously, so wall time around a kernel call is only
 * its encoding. Instead:
 * 1. the step runs twice: the first compiles every pipeline (tfjs caches them by shader key),
 *    the second reuses them, so "cold − warm" is the compilation; `createComputePipeline` and
 *    `createShaderModule` calls are also timed directly (Dawn compiles synchronously there);
 * 2. during the warm step every `runKernel` call (name, input shapes and dtypes, attributes) is
 *    recorded; afterwards each distinct call is replayed alone on fresh inputs of the same
 *    shapes, waiting for the queue after it (`finish`: submit, `onSubmittedWorkDone`), best of
 *    three after one warm-up. Its time × its count in the step is its share. The sum is
 *    printed next to the warm step's wall time: the rest is JS, dispatch and read-back overhead.
 *    Kernels that call other kernels internally count once, under the outer name.
 * Every figure is printed with the 1-minute load average: on a shared machine wall times move
 * with the load.
 */
import * as os from 'node:os';

const args = process.argv.slice(2);
const value = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const variant = value('--variant', 'BL');
const patch = Number(value('--patch', '32'));
const base = Number(value('--base', '4'));
const top = Number(value('--top', '25'));
const json = args.includes('--json');
const load = () => os.loadavg()[0].toFixed(1);

const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-layers'); // registers every gradient
const webgpu = await import('@voxseg/backend-webgpu');
const core = await import('@voxseg/core');
const unet = await import('@voxseg/plugin-unet');
const attention = await import('@voxseg/plugin-axial-attention');
const losses = await import('@voxseg/plugin-losses');

const status = await webgpu.registerWebGPUBackend();
console.log(webgpu.formatWebGPUStatus(status));
if (!status.available) process.exit(2);
await tf.setBackend('webgpu');
const backend = tf.backend();

// Direct timing of pipeline creation (Dawn compiles WGSL -> SPIR-V -> the driver's code there).
const compile = { pipelines: 0, pipelineMs: 0, modules: 0, moduleMs: 0 };
const device = backend.device;
for (const [fn, countKey, msKey] of [['createComputePipeline', 'pipelines', 'pipelineMs'], ['createShaderModule', 'modules', 'moduleMs']]) {
  const orig = device[fn].bind(device);
  device[fn] = (...a) => {
    const t0 = performance.now();
    try {
      return orig(...a);
    } finally {
      compile[msKey] += performance.now() - t0;
      compile[countKey]++;
    }
  };
}

const exp = core.createExperiment({ plugins: [unet.unetPlugin(), attention.axialAttentionPlugin(), losses.lossesPlugin()] });
const model = unet.buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, baseFilters: base, rng: new core.Rng(7) });
const factory = exp.get('loss', 'deep-supervision');
const loss = factory.create({ ...factory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
const x = tf.randomUniform([1, patch, patch, patch, 4], -1, 1, 'float32', 11);
const target = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([1, patch, patch, patch, 3], -1, 1, 'float32', 12), 0.3), 'float32'));
const vars = model.trainableWeights.map((w) => w.read());

async function step() {
  const t0 = performance.now();
  const { value: l, grads } = tf.variableGrads(() => {
    const outs = [].concat(model.apply(x, { training: true }));
    return loss.compute(outs, [target]);
  }, vars);
  const encoded = performance.now() - t0;
  await l.data();
  for (const g of Object.values(grads)) await g.data();
  tf.dispose([l, ...Object.values(grads)]);
  return { ms: performance.now() - t0, encodedMs: encoded };
}

const cold = await step();
const coldCompile = { ...compile };
console.log(`${variant} patch ${patch} base ${base}: cold step ${(cold.ms / 1000).toFixed(1)} s (load ${load()}); ` +
  `${coldCompile.pipelines} pipelines created in ${(coldCompile.pipelineMs / 1000).toFixed(1)} s, ${coldCompile.modules} shader modules in ${(coldCompile.moduleMs / 1000).toFixed(1)} s`);

// The warm step, recording every kernel call.
const engine = tf.engine();
const calls = new Map();
const runKernel = engine.runKernel.bind(engine);
let depth = 0;
engine.runKernel = (name, inputs, attrs) => {
  if (depth === 0) {
    const ins = Object.entries(inputs).filter(([, t]) => t != null).map(([k, t]) => [k, t.shape, t.dtype]);
    const key = `${name} ${JSON.stringify(ins)} ${JSON.stringify(attrs ?? {})}`;
    // Some kernels (Concat, AddN) take a list of tensors rather than named ones.
    const c = calls.get(key) ?? { name, ins, attrs, list: Array.isArray(inputs), count: 0 };
    c.count++;
    calls.set(key, c);
  }
  depth++;
  try {
    return runKernel(name, inputs, attrs);
  } finally {
    depth--;
  }
};
const warm = await step();
engine.runKernel = runKernel;
const warmCompile = { pipelines: compile.pipelines - coldCompile.pipelines, pipelineMs: compile.pipelineMs - coldCompile.pipelineMs };
console.log(`warm step ${(warm.ms / 1000).toFixed(1)} s (JS encoding ${(warm.encodedMs / 1000).toFixed(1)} s; ${warmCompile.pipelines} new pipelines; load ${load()})`);

// Replay each distinct call alone.
function inputsOf(c) {
  const make = ([, shape, dtype]) => (dtype === 'float32' ? tf.randomUniform(shape, 0.1, 1, 'float32', 3) : tf.zeros(shape, dtype));
  return c.list ? c.ins.map(make) : Object.fromEntries(c.ins.map((i) => [i[0], make(i)]));
}
const rows = [];
for (const c of calls.values()) {
  const inputs = inputsOf(c);
  await webgpu.finish(Object.values(inputs)[0]);
  const times = [];
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    const out = engine.runKernel(c.name, inputs, c.attrs);
    const list = Array.isArray(out) ? out : [out];
    await webgpu.finish(list[0]);
    times.push(performance.now() - t0);
    tf.dispose(list);
  }
  tf.dispose(Object.values(inputs));
  const ms = Math.min(...times.slice(1));
  rows.push({ name: c.name, shapes: c.ins.map(([, s]) => s.join('x')).join(' '), attrs: c.attrs, count: c.count, ms, total: ms * c.count });
}
const replayed = rows.reduce((s, r) => s + r.total, 0);
const byName = new Map();
for (const r of rows) {
  const b = byName.get(r.name) ?? { name: r.name, calls: 0, total: 0 };
  b.calls += r.count;
  b.total += r.total;
  byName.set(r.name, b);
}
const names = [...byName.values()].sort((a, b) => b.total - a.total);
console.log(`\nreplayed kernels: ${(replayed / 1000).toFixed(1)} s in ${rows.reduce((s, r) => s + r.count, 0)} calls (${rows.length} distinct), load ${load()}`);
console.log('per kernel name:');
for (const n of names.slice(0, top)) {
  console.log(`  ${n.name.padEnd(28)} ${(n.total / 1000).toFixed(2).padStart(7)} s ${((100 * n.total) / replayed).toFixed(1).padStart(5)}%  ${n.calls} calls`);
}
console.log('slowest calls (time each x count):');
for (const r of [...rows].sort((a, b) => b.total - a.total).slice(0, top)) {
  const a = r.attrs && Object.keys(r.attrs).length ? ` ${JSON.stringify(r.attrs)}` : '';
  console.log(`  ${(r.total / 1000).toFixed(2).padStart(7)} s = ${r.ms.toFixed(1)} ms x ${r.count}  ${r.name} ${r.shapes}${a.length > 90 ? a.slice(0, 90) + '…' : a}`);
}
if (json) console.log(JSON.stringify({ variant, patch, base, coldMs: cold.ms, warmMs: warm.ms, compile: coldCompile, replayedMs: replayed, byName: names, rows }));
tf.dispose([x, target]);
model.dispose();
process.exit(0);
