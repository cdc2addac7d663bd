#!/usr/bin/env node
/**
 * Benchmarks of the nnU-Net U-Net (not tests): forward (inference mode) and one training step
 * (training-mode forward, deep-supervision dice-bce loss, backward, SGD momentum 0.99
 * Nesterov) per variant and patch, on the best available backend, with peak RSS.
 *
 * Run from the repository root after building (`npx tsc -p packages/<pkg>/tsconfig.build.json`
 * for core, plugin-losses, plugin-unet):
 *   node packages/plugin-unet/bench/index.mjs [--variant BL] [--patch 64] [--batch 2]
 *        [--backend auto|native|cpu] [--steps 2] [--forward-only] [--force] [--json]
 * On the pure-JS cpu backend the 128^3 training step is skipped with a message (hours) unless
 * --force.
 * Each configuration runs in its own process call of run(); peak RSS is the process maximum
 * (getrusage), so run one patch size per process for a clean memory figure.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createExperiment, Rng, selectBackend } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, countTrainableParams, unetPlugin } from '@voxseg/plugin-unet';

const GiB = 2 ** 30;
const peakRssGiB = () => (process.resourceUsage().maxRSS * 1024) / GiB;

/**
 * Build the variant, time `steps` forwards and training steps (after one warm-up each) and
 * report medians and peak RSS.
 * @param {{variant?: string, patch?: number, batch?: number, backend?: string, steps?: number, forwardOnly?: boolean, force?: boolean, log?: (s: string) => void}} options
 */
export async function run(options = {}) {
  const variant = options.variant ?? 'BL';
  const patch = options.patch ?? 64;
  const batch = options.batch ?? 2;
  const steps = options.steps ?? 2;
  const log = options.log ?? ((s) => process.stderr.write(`${s}\n`));
  const backend = await selectBackend(options.backend ?? 'auto', { log });
  const exp = createExperiment({ plugins: [unetPlugin(), lossesPlugin()] });
  const rng = new Rng(1);
  const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: patch, rng });
  const x = tf.tensor(Float32Array.from({ length: batch * patch ** 3 * 4 }, () => rng.normal()), [batch, patch, patch, patch, 4]);
  const target = tf.tensor(Float32Array.from({ length: batch * patch ** 3 * 3 }, () => (rng.bool(0.2) ? 1 : 0)), [batch, patch, patch, patch, 3]);
  const result = { variant, patch, batch, backend: backend.name, threads: backend.threads ?? null, parameters: countTrainableParams(model) };
  const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

  const forward = () => {
    const t0 = performance.now();
    const ys = model.predict(x);
    (Array.isArray(ys) ? ys[0] : ys).dataSync();
    tf.dispose(ys);
    return performance.now() - t0;
  };
  forward();
  const fwd = Array.from({ length: steps }, forward);
  result.forwardMs = median(fwd);
  result.peakRssGiBAfterForward = peakRssGiB();
  log(`${variant} ${patch}^3 batch ${batch} on ${backend.name}: forward ${result.forwardMs.toFixed(0)} ms (median of ${steps}), peak RSS ${result.peakRssGiBAfterForward.toFixed(2)} GiB`);

  // Pure-JS cpu runs a 3x3x3 conv at ~0.5 GFLOP/s: a 128^3 training step would take hours.
  const tooSlow = backend.name === 'cpu' && patch >= 128 && !options.force;
  if (tooSlow && !options.forwardOnly) {
    log(`skipping the ${patch}^3 training step on the pure-JS cpu backend (hours); use --backend native, or --force`);
    result.trainStepSkipped = 'cpu backend too slow at this size';
  }
  if (!options.forwardOnly && !tooSlow) {
    const lossFactory = exp.get('loss', 'deep-supervision');
    const loss = lossFactory.create({ ...lossFactory.defaults }, exp);
    const optimizer = tf.train.momentum(0.01, 0.99, true);
    const vars = model.trainableWeights.map((w) => w.read());
    const step = () => {
      const t0 = performance.now();
      const value = optimizer.minimize(() => loss.compute([].concat(model.apply(x, { training: true })), [target]), true, vars);
      value.dataSync();
      value.dispose();
      return performance.now() - t0;
    };
    step();
    const before = tf.memory().numTensors;
    const times = Array.from({ length: steps }, step);
    result.trainStepMs = median(times);
    result.leakedTensors = tf.memory().numTensors - before;
    result.peakRssGiB = peakRssGiB();
    optimizer.dispose();
    log(`${variant} ${patch}^3 batch ${batch} on ${backend.name}: training step ${result.trainStepMs.toFixed(0)} ms (median of ${steps}), peak RSS ${result.peakRssGiB.toFixed(2)} GiB, tensors leaked ${result.leakedTensors}`);
  }
  tf.dispose([x, target]);
  model.dispose();
  return result;
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--variant') o.variant = next();
    else if (a === '--patch') o.patch = Number(next());
    else if (a === '--batch') o.batch = Number(next());
    else if (a === '--backend') o.backend = next();
    else if (a === '--steps') o.steps = Number(next());
    else if (a === '--forward-only') o.forwardOnly = true;
    else if (a === '--json') o.json = true;
    else if (a === '--force') o.force = true;
    else throw new Error(`bench: unknown argument ${a}`);
  }
  for (const k of ['patch', 'batch', 'steps']) {
    if (o[k] !== undefined && !(Number.isInteger(o[k]) && o[k] > 0)) throw new Error(`bench: --${k} must be a positive integer`);
  }
  return o;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const r = await run(opts);
    process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exitCode = 1;
  }
}
