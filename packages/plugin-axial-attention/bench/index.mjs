// BL+AA beside BL: forward time, training-step time and peak RSS per patch size.
//
// Build first (the bench runs the published artifacts, not the sources):
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/plugin-unet/tsconfig.build.json \
//     && npx tsc -p packages/plugin-axial-attention/tsconfig.build.json
//   (and packages/backend-native for the `native` backend)
// Run:
//   node packages/plugin-axial-attention/bench/index.mjs [--sizes 32,64] [--variants BL,BL+AA]
//        [--backend auto] [--batch 1] [--reps 2] [--forward-only] [--json]
//
// Each (variant, size) runs in its own child process, so peak RSS (getrusage maxRSS) belongs to
// that configuration alone. A training step is one SGD update (momentum 0.99, Nesterov) on
// the deep-supervision BCE-with-logits loss (weights 8/15, 4/15, ... as the reference), with
// random inputs and random binary targets: the cost of the network, not of the data.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

function parseArgs(argv) {
  const opts = { sizes: [32, 64], variants: ['BL', 'BL+AA'], backend: 'auto', batch: 1, reps: 2, json: false, child: false, forwardOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--sizes') opts.sizes = next().split(',').map(Number);
    else if (a === '--variants') opts.variants = next().split(',');
    else if (a === '--backend') opts.backend = next();
    else if (a === '--batch') opts.batch = Number(next());
    else if (a === '--reps') opts.reps = Number(next());
    else if (a === '--json') opts.json = true;
    else if (a === '--forward-only') opts.forwardOnly = true;
    else if (a === '--child') opts.child = true;
    else throw new Error(`bench: unknown argument ${a}`);
  }
  if (opts.sizes.some((s) => !Number.isInteger(s) || s < 8)) throw new Error(`bench: --sizes must be integers >= 8`);
  return opts;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One configuration, in this process. Returns plain numbers. */
async function measure(variant, size, opts) {
  const tf = await import('@tensorflow/tfjs-core');
  const { createExperiment, selectBackend, Rng } = await import('@voxseg/core');
  const { unetPlugin, buildPreset, countTrainableParams } = await import('@voxseg/plugin-unet');
  const { axialAttentionPlugin } = await import('@voxseg/plugin-axial-attention');
  const selection = await selectBackend(opts.backend);
  const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
  const tBuild = performance.now();
  const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: size, seed: 1 });
  const buildMs = performance.now() - tBuild;
  const rng = new Rng(7);
  const n = opts.batch;
  const x = tf.tensor5d(Float32Array.from({ length: n * size ** 3 * 4 }, () => rng.normal()), [n, size, size, size, 4]);
  const heads = model.outputs.length;
  const targets = model.outputs.map((o) => {
    const shape = [n, ...o.shape.slice(1)];
    const count = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Float32Array.from({ length: count }, () => (rng.next() < 0.3 ? 1 : 0)), shape);
  });
  // Deep-supervision weights 1/2^i, lowest head 0, normalised (docs/method.md "Loss").
  const raw = Array.from({ length: heads }, (_, i) => (i === heads - 1 && heads > 1 ? 0 : 1 / 2 ** i));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);

  const forward = () => {
    const t0 = performance.now();
    const out = model.predict(x);
    const outs = Array.isArray(out) ? out : [out];
    outs[0].dataSync(); // wait for the backend
    tf.dispose(outs);
    return performance.now() - t0;
  };
  const optimizer = tf.train.momentum(1e-3, 0.99, true);
  const vars = model.trainableWeights.map((w) => w.read());
  const step = () => {
    const t0 = performance.now();
    const loss = optimizer.minimize(
      () => {
        const outs = model.apply(x, { training: true });
        const list = Array.isArray(outs) ? outs : [outs];
        return list.reduce((acc, o, i) => tf.add(acc, tf.mul(tf.losses.sigmoidCrossEntropy(targets[i], o), weights[i])), tf.scalar(0));
      },
      true,
      vars,
    );
    const value = loss.dataSync()[0];
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`bench: non-finite loss ${value} for ${variant} at ${size}`);
    return performance.now() - t0;
  };

  forward(); // warm-up: kernels, JIT
  const forwardMs = Array.from({ length: opts.reps }, forward);
  let stepMs = [Number.NaN];
  let leaked = 0;
  if (!opts.forwardOnly) {
    step();
    const tensorsBefore = tf.memory().numTensors;
    stepMs = Array.from({ length: opts.reps }, step);
    leaked = tf.memory().numTensors - tensorsBefore;
  }
  const result = {
    variant,
    patch: size,
    batch: n,
    backend: selection.name,
    backendReason: selection.reason,
    parameters: countTrainableParams(model),
    buildMs: Math.round(buildMs),
    forwardMs: Math.round(median(forwardMs)),
    trainStepMs: opts.forwardOnly ? null : Math.round(median(stepMs)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    leakedTensorsPerStep: leaked / opts.reps,
  };
  tf.dispose([x, ...targets]);
  optimizer.dispose();
  model.dispose();
  return result;
}

/**
 * Run the benchmark: one child process per (variant, size), results printed as a table (or one
 * JSON object on the last line with `--json`). Returns the result rows.
 * @param {string[]} argv command-line arguments (without `node` and the script)
 */
export async function run(argv = process.argv.slice(2)) {
  const opts = parseArgs(argv);
  if (opts.child) {
    const result = await measure(opts.variants[0], opts.sizes[0], opts);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return [result];
  }
  const rows = [];
  for (const size of opts.sizes) {
    for (const variant of opts.variants) {
      const args = [SELF, '--child', '--variants', variant, '--sizes', String(size), '--backend', opts.backend,
        '--batch', String(opts.batch), '--reps', String(opts.reps), ...(opts.forwardOnly ? ['--forward-only'] : [])];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--max-old-space-size=16384', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) {
        rows.push({ variant, patch: size, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' | ') });
      } else {
        rows.push({ ...JSON.parse(line), wallMs: Math.round(performance.now() - t0) });
      }
      if (!opts.json) console.log(JSON.stringify(rows[rows.length - 1]));
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify({ benchmark: 'plugin-axial-attention', rows })}\n`);
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
