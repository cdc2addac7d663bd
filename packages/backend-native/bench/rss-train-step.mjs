// RSS over many U-Net training steps on a backend: shows whether native memory (or the
// output-array pool) grows without bound. Prints RSS every `every` steps and the growth
// after the first sample. Usage (after npm run build):
//   node packages/backend-native/bench/rss-train-step.mjs [backend=native] [steps=100] [patch=32] [batch=1] [every=10]
import * as tf from '@tensorflow/tfjs-core';
import { Experiment, Rng, selectBackend } from '@voxseg/core';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';

const [backend = 'native', steps = '100', patch = '32', batch = '1', every = '10'] = process.argv.slice(2);
const P = Number(patch);
const B = Number(batch);
await selectBackend(backend);
const model = buildPreset(new Experiment().use(unetPlugin()), 'BL', { inChannels: 4, outChannels: 3, patchSize: P, deepSupervision: true, seed: 0 });
const rng = new Rng(0);
const x = tf.tensor(Float32Array.from({ length: B * P ** 3 * 4 }, () => rng.normal()), [B, P, P, P, 4]);
const targets = model.outputs.map((o) => [B, ...o.shape.slice(1)]).map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s));
const opt = tf.train.momentum(0.01, 0.99, true);
const vars = model.trainableWeights.map((w) => w.read());
const mb = () => process.memoryUsage().rss / 2 ** 20;
const samples = [];
for (let i = 1; i <= Number(steps); i++) {
  const l = opt.minimize(() => tf.addN([].concat(model.apply(x, { training: true })).map((o, k) => tf.losses.sigmoidCrossEntropy(targets[k], o))), true, vars);
  l.dispose();
  if (i % Number(every) === 0) {
    samples.push(mb());
    console.log(`step ${i}: RSS ${samples.at(-1).toFixed(1)} MB, tensors ${tf.memory().numTensors}`);
  }
}
const growth = samples.at(-1) - samples[0];
console.log(JSON.stringify({ backend: tf.getBackend(), steps: Number(steps), patch: P, batch: B, rssFirstMb: samples[0], rssLastMb: samples.at(-1), rssGrowthAfterFirstSampleMb: growth }));
