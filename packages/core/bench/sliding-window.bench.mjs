// Sliding-window inference overhead on a full BraTS grid (155x240x240x4, patch 128^3, step
// 0.5 -> 18 windows, 3 output channels), with a 1x1x1 conv as the network so the figures
// measure voxseg's part (window gathering, sigmoid, mirroring, Gaussian accumulation), not
// the network. Build core first: `npx tsc -p packages/core/tsconfig.build.json`, then
// `node packages/core/bench/sliding-window.bench.mjs [--backend cpu|native|wasm|auto] [--tta] [--json]`.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, gaussianImportanceMap, selectBackend, slidingWindowInference } from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const backend = await selectBackend(arg('--backend', 'cpu'), { log: (l) => console.log(l) });
const tta = process.argv.includes('--tta');

const shape = [155, 240, 240, 4];
const rng = new Rng(0);
const volume = new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]);
for (let i = 0; i < volume.length; i++) volume[i] = rng.normal();
const kernel = tf.tensor5d(Float32Array.from({ length: 12 }, () => rng.normal()), [1, 1, 1, 4, 3]);
const predictor = (x) => tf.tidy(() => tf.conv3d(x, kernel, 1, 'same'));

let t0 = performance.now();
gaussianImportanceMap([128, 128, 128]);
const gaussianMs = performance.now() - t0;

let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const before = tf.memory().numTensors;
let windows = 0;
t0 = performance.now();
const result = await slidingWindowInference(volume, shape, predictor, {
  patchSize: 128,
  mirror: tta,
  onProgress: (p) => {
    windows = p.total;
    sample();
  },
});
const totalMs = performance.now() - t0;
sample();
const leaked = tf.memory().numTensors - before;

// The network alone on the same windows, to subtract it from the total.
const x = tf.randomNormal([1, 128, 128, 128, 4]);
t0 = performance.now();
const passes = tta ? 8 : 1;
for (let i = 0; i < 3; i++) {
  const y = predictor(x);
  await y.data();
  y.dispose();
}
const networkMsPerWindow = ((performance.now() - t0) / 3) * passes;
x.dispose();

const out = {
  backend: backend.name,
  tta,
  volume: shape,
  windows,
  totalMs: Math.round(totalMs),
  msPerWindow: Math.round(totalMs / windows),
  networkMsPerWindow: Math.round(networkMsPerWindow),
  overheadMsPerWindow: Math.round(totalMs / windows - networkMsPerWindow),
  gaussian128Ms: Math.round(gaussianMs),
  accumulatorMB: Math.round((shape[0] * shape[1] * shape[2] * (3 + 1) * 4) / 2 ** 20),
  peakRssMB: Math.round(peakRss / 2 ** 20),
  leakedTensors: leaked,
  outputShape: result.shape,
};
console.log(
  `${windows} windows in ${out.totalMs} ms (${out.msPerWindow} ms/window, of which network ${out.networkMsPerWindow} ms); ` +
    `peak RSS ${out.peakRssMB} MB (accumulators ${out.accumulatorMB} MB); leaked tensors ${leaked}`,
);
if (process.argv.includes('--json')) console.log(JSON.stringify(out));
