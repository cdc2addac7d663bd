#!/usr/bin/env node
// `npm run bench:gpu`: voxseg on WebGPU (@voxseg/backend-webgpu) against PyTorch CUDA on the
// same GPU, when python3 finds torch with CUDA (scripts/torch_gpu_bench.py; fp32, TF32 off).
//
// Measures: conv3d 64^3 and 128^3, 32->32, forward + both gradients (TFLOP/s); a BL training
// step at 128^3, batch 2 (ms); whole-case inference of a 155x240x240 case at patch 128, with
// and without 8-way mirror TTA (s). Prints a line per figure with the ratios, then one JSON
// object on the last line of stdout (also written to --out FILE).
//
//   node scripts/gpu-bench.mjs [--tiny] [--out FILE] [--no-torch] [--skip conv3d,train,infer]
//
// --tiny: the same measurements at sizes SwiftShader finishes in a few minutes (a rehearsal of
// the script, not a figure). Needs the packages built (`npm run build`). The backend is
// always `webgpu`, whatever adapter it finds: the adapter is printed first.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const tiny = flag('--tiny');
const skip = new Set((value('--skip', '') || '').split(',').filter(Boolean));
const cfg = tiny
  ? { sizes: [8, 16], channels: 4, patch: 16, batch: 1, baseFilters: 4, steps: 2, case: [20, 24, 18], inferPatch: 16, repeats: 1 }
  : { sizes: [64, 128], channels: 32, patch: 128, batch: 2, baseFilters: 32, steps: 3, case: [155, 240, 240], inferPatch: 128, repeats: 3 };

const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-layers'); // registers every gradient
const webgpu = await import('@voxseg/backend-webgpu');
const status = await webgpu.registerWebGPUBackend();
console.log(webgpu.formatWebGPUStatus(status));
if (!status.available) process.exit(2);
await tf.setBackend('webgpu');
const result = { tiny, adapter: status.adapter, webgpu: {}, torch: null, ratios: {} };
const core = await import('@voxseg/core');

if (!skip.has('conv3d')) {
  result.webgpu.conv3d = [];
  for (const size of cfg.sizes) {
    const options = { size, channels: cfg.channels, repeats: cfg.repeats };
    const r = await core.benchConv3d(options, { finish: webgpu.finish });
    result.webgpu.conv3d.push({ size, channels: cfg.channels, ...r });
    console.log(core.formatConv3dBench(r, options, 'TFLOP/s'));
  }
}

const unet = await import('@voxseg/plugin-unet');
const exp = core.createExperiment({ plugins: [unet.unetPlugin()] });

if (!skip.has('train')) {
  const model = unet.buildPreset(exp, 'BL', { inChannels: 4, outChannels: 3, patchSize: cfg.patch, baseFilters: cfg.baseFilters, rng: new core.Rng(1) });
  const p = cfg.patch;
  const x = tf.randomNormal([cfg.batch, p, p, p, 4]);
  const outShapes = model.outputs.map((o) => [cfg.batch, ...o.shape.slice(1)]);
  const targets = outShapes.map((s, i) => tf.cast(tf.greater(tf.randomUniform(s, 0, 1, 'float32', i), 0.5), 'float32'));
  const raw = outShapes.map((_, i) => (outShapes.length > 1 && i === outShapes.length - 1 ? 0 : 1 / 2 ** i));
  const weights = raw.map((w) => w / raw.reduce((a, b) => a + b, 0));
  const optimizer = tf.train.momentum(0.01, 0.99, true);
  const vars = model.trainableWeights.map((w) => w.read());
  const times = [];
  for (let i = 0; i <= cfg.steps; i++) {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => {
      const outs = [].concat(model.apply(x, { training: true }));
      return tf.addN(outs.map((o, j) => tf.mul(tf.losses.sigmoidCrossEntropy(targets[j], o), weights[j])));
    }, true, vars);
    await loss.data();
    loss.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  result.webgpu.trainStep = { msPerStep: ms, patch: p, batch: cfg.batch, baseFilters: cfg.baseFilters, variant: 'BL' };
  console.log(`webgpu BL train step ${p}^3 batch ${cfg.batch}: ${ms.toFixed(0)} ms (median of ${cfg.steps})`);
  tf.dispose([x, ...targets]);
  optimizer.dispose();
  model.dispose();
}

if (!skip.has('infer')) {
  const model = unet.buildPreset(exp, 'BL', { inChannels: 4, outChannels: 3, patchSize: cfg.inferPatch, baseFilters: cfg.baseFilters, rng: new core.Rng(2) });
  const [D, H, W] = cfg.case;
  const volume = new Float32Array(D * H * W * 4).map((_, i) => Math.sin(i * 0.37));
  result.webgpu.inference = {};
  for (const tta of ['none', 'mirror8']) {
    const t0 = performance.now();
    const probs = await core.slidingWindowInference(volume, [D, H, W, 4], (w) => model.predict(w), { patchSize: cfg.inferPatch, mirror: tta === 'mirror8' });
    const seconds = (performance.now() - t0) / 1000;
    result.webgpu.inference[tta] = { seconds, case: cfg.case, patch: cfg.inferPatch, outputValues: probs.data?.length ?? null };
    console.log(`webgpu whole-case inference ${cfg.case.join('x')} patch ${cfg.inferPatch}, TTA ${tta}: ${seconds.toFixed(2)} s`);
  }
  model.dispose();
}

if (!flag('--no-torch')) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_gpu_bench.py');
  const r = spawnSync('python3', [script, '--sizes', cfg.sizes.join(','), '--channels', String(cfg.channels), '--patch', String(cfg.patch), '--batch', String(cfg.batch), '--steps', String(cfg.steps), '--case', cfg.case.join(','), '--infer-patch', String(cfg.inferPatch)], { encoding: 'utf8' });
  const last = (r.stdout ?? '').trim().split('\n').pop();
  try {
    result.torch = JSON.parse(last);
  } catch {
    result.torch = { skipped: `python3 ${script} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  }
  const t = result.torch;
  if (t && !t.skipped) {
    console.log(`torch ${t.torch} on ${t.device} (fp32, TF32 off):`);
    (t.conv3d ?? []).forEach((c, i) => {
      const w = result.webgpu.conv3d?.[i];
      if (w) result.ratios[`conv3d${c.size}`] = w.tflops / c.tflops;
      console.log(`  conv3d ${c.size}^3: ${c.tflops.toFixed(3)} TFLOP/s${w ? `; webgpu/torch ${(w.tflops / c.tflops).toFixed(2)}x` : ''}`);
    });
    if (t.trainStep && result.webgpu.trainStep) {
      result.ratios.trainStep = result.webgpu.trainStep.msPerStep / t.trainStep.msPerStep;
      console.log(`  BL train step: ${t.trainStep.msPerStep.toFixed(0)} ms; webgpu takes ${result.ratios.trainStep.toFixed(2)}x torch's time`);
    }
    for (const k of ['none', 'mirror8']) {
      if (t.inference?.[k] && result.webgpu.inference?.[k]) {
        result.ratios[`inference_${k}`] = result.webgpu.inference[k].seconds / t.inference[k].seconds;
        console.log(`  inference TTA ${k}: ${t.inference[k].seconds.toFixed(2)} s; webgpu takes ${result.ratios[`inference_${k}`].toFixed(2)}x torch's time`);
      }
    }
  } else {
    console.log(`torch: ${t?.skipped}`);
  }
}

const out = value('--out', null);
if (out) writeFileSync(out, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
process.exit(0);
