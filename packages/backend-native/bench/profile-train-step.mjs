// Profile one U-Net training step per tfjs kernel (tf.profile), to see what dominates on a
// backend. Usage: node packages/backend-native/bench/profile-train-step.mjs [backend] [variant] [patch] [batch]
// Needs the packages built (npm run build). Not part of `npm run bench` (profiling slows kernels).
import * as tf from '@tensorflow/tfjs-core';
import { Experiment, Rng, selectBackend } from '@voxseg/core';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';

const [backend = 'native', variant = 'BL', patch = '32', batch = '1'] = process.argv.slice(2);
const P = Number(patch);
const B = Number(batch);
await selectBackend(backend);
const model = buildPreset(new Experiment().use(unetPlugin()), variant, { inChannels: 4, outChannels: 3, patchSize: P, deepSupervision: true, seed: 0 });
const rng = new Rng(0);
const x = tf.tensor(Float32Array.from({ length: B * P ** 3 * 4 }, () => rng.normal()), [B, P, P, P, 4]);
const outs0 = model.outputs.map((o) => [B, ...o.shape.slice(1)]);
const targets = outs0.map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s));
const opt = tf.train.momentum(0.01, 0.99, true);
const vars = model.trainableWeights.map((w) => w.read());
const step = () => {
  const l = opt.minimize(() => tf.addN([].concat(model.apply(x, { training: true })).map((o, i) => tf.losses.sigmoidCrossEntropy(targets[i], o))), true, vars);
  l.dataSync();
  l.dispose();
};
step();
const t0 = performance.now();
const prof = await tf.profile(step);
const total = performance.now() - t0;
const by = new Map();
for (const k of prof.kernels) {
  const e = by.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.n++;
  by.set(k.name, e);
}
const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(`${variant} patch ${P} batch ${B} on ${tf.getBackend()}: ${total.toFixed(0)} ms for the profiled step`);
for (const [name, e] of rows.slice(0, 25)) console.log(`${name.padEnd(28)} ${e.ms.toFixed(1).padStart(9)} ms  x${e.n}`);
if (process.env.PROFILE_DETAIL) for (const k of prof.kernels.filter((k) => k.name === process.env.PROFILE_DETAIL).slice(0, 40)) console.log(k.name, k.kernelTimeMs, JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
