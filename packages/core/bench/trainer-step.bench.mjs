// Trainer overhead: ms per iteration of Trainer.run() versus a bare loop doing the same math
// (tf.variableGrads + clipGradNorm + SGD.step) on the same network and batches. The difference
// is what the trainer adds: batch -> tensor conversion, loss read-back, NaN checks, events,
// command draining. Prints one JSON object on the last line.
//
// Usage (after `npx tsc -p packages/core/tsconfig.build.json`):
//   node packages/core/bench/trainer-step.bench.mjs [--patch 16] [--filters 8] [--iterations 10] [--backend cpu]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { clipGradNorm, Rng, SGD, Trainer } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    patch: { type: 'string', default: '16' },
    filters: { type: 'string', default: '8' },
    iterations: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'cpu' },
  },
});
const P = Number(values.patch);
const F = Number(values.filters);
const N = Number(values.iterations);
await tf.setBackend(values.backend);

function buildModel() {
  const input = tfl.input({ shape: [P, P, P, 4] });
  let x = tfl.layers.conv3d({ filters: F, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input);
  x = tfl.layers.conv3d({ filters: F, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  const out = tfl.layers.conv3d({ filters: 3, kernelSize: 1 }).apply(x);
  const model = tfl.model({ inputs: input, outputs: out });
  const rng = new Rng(1);
  const vals = model.weights.map((w) => tf.tensor(Array.from({ length: w.shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, 0.1)), w.shape));
  model.setWeights(vals);
  tf.dispose(vals);
  return model;
}

const provider = {
  patchShape: [P, P, P, 4],
  batchSize: 2,
  targetChannels: ['WT', 'TC', 'ET'],
  async batch(index) {
    const rng = new Rng(`bench:${index}`);
    const image = Float32Array.from({ length: 2 * P ** 3 * 4 }, () => rng.normal());
    const target = Uint8Array.from({ length: 2 * P ** 3 * 3 }, () => (rng.next() < 0.3 ? 1 : 0));
    return { image, shape: [2, P, P, P, 4], target, targetChannels: 3, caseIds: ['a', 'b'] };
  },
};
const loss = {
  name: 'bce',
  compute: ([logits], [y]) => tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))),
};

// Trainer (1 warm-up iteration excluded through batchEnd timing).
const model = buildModel();
const trainer = new Trainer({ model, loss, train: provider, epochs: 1, iterationsPerEpoch: N + 1, backend: values.backend, logger: { warn() {} } });
const batchMs = [];
trainer.events$.subscribe((e) => {
  if (e.type === 'batchEnd') batchMs.push(e.ms);
});
await trainer.run();
const trainerMs = batchMs.slice(1).reduce((a, b) => a + b, 0) / N;

// Bare loop on a second model with the same weights and batches (batches made beforehand).
const bare = buildModel();
const vars = bare.trainableWeights.map((w) => w.read());
const sgd = new SGD(vars);
const batches = await Promise.all(Array.from({ length: N + 1 }, (_, i) => provider.batch(i)));
let bareTotal = 0;
for (let i = 0; i <= N; i++) {
  const b = batches[i];
  const t0 = performance.now();
  const x = tf.tensor5d(b.image, b.shape);
  const y = tf.tensor5d(Float32Array.from(b.target), [2, P, P, P, 3]);
  const { value, grads } = tf.variableGrads(() => loss.compute([bare.apply(x, { training: true })], [y]), vars);
  const clipped = clipGradNorm(vars.map((v) => grads[v.name]), 12);
  await value.data();
  sgd.step(clipped.grads, 0.01);
  tf.dispose([x, y, value, clipped.totalNorm, ...clipped.grads, ...Object.values(grads)]);
  if (i > 0) bareTotal += performance.now() - t0;
}
const bareMs = bareTotal / N;
console.log(`patch ${P}^3 x 4ch, batch 2, ${F} filters, ${N} iterations on ${values.backend}: trainer ${trainerMs.toFixed(1)} ms/it, bare loop ${bareMs.toFixed(1)} ms/it (trainer includes making each batch)`);
console.log(JSON.stringify({ bench: 'trainer-step', backend: values.backend, patch: P, filters: F, iterations: N, trainerMsPerIteration: trainerMs, bareMsPerIteration: bareMs, overheadRatio: trainerMs / bareMs }));
