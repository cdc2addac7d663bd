import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { registerBenchBf16 } from './bench-bf16.js';
import { registerBenchInference } from './bench-inference.js';
import { CliError, type CommandModule } from './types.js';

/** Options of `voxseg bench conv3d` as commander parses them. */
interface Conv3dFlags {
  size: string;
  channels: string;
  batch: string;
  repeats: string;
  backend: string;
  json?: boolean;
}

/** Options of `voxseg bench train-step` as commander parses them. */
interface TrainStepFlags {
  variant: string;
  patch: string;
  batch: string;
  steps: string;
  backend: string;
  seed: string;
  checkpointDecoder?: boolean;
  checkpointEncoder?: boolean;
  memoryCheck?: boolean;
  json?: boolean;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`voxseg bench: ${flag} must be a positive integer, got '${value}'`);
  return n;
}

/** Select the backend through core (same rules as every other command); one-line errors. */
async function useBackend(choice: string): Promise<string> {
  const { selectBackend } = await import('@voxseg/core');
  try {
    const sel = await selectBackend(choice);
    return sel.name;
  } catch (err) {
    throw new CliError(`voxseg bench: --backend ${choice}: ${(err as Error).message}`);
  }
}

/** Print the human line, then (with --json) the JSON object as the last line of stdout. */
function report(human: string, result: Record<string, unknown>, json?: boolean): void {
  process.stdout.write(`${human}\n`);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function runConv3d(flags: Conv3dFlags): Promise<void> {
  const size = positive(flags.size, '--size');
  const channels = positive(flags.channels, '--channels');
  const batch = positive(flags.batch, '--batch');
  const repeats = positive(flags.repeats, '--repeats');
  const backend = await useBackend(flags.backend);
  // webgpu is timed through its queue, without read-back: its package's finish.
  const finish = backend === 'webgpu' ? (await import('@voxseg/backend-webgpu')).finish : undefined;
  const options = { size, channels, batch, repeats };
  const core = await import('@voxseg/core');
  const r = await core.benchConv3d(options, finish ? { finish } : {});
  report(
    core.formatConv3dBench(r, options),
    { gflops: r.gflops, msForward: r.msForward, msBackwardInput: r.msBackwardInput, msBackwardFilter: r.msBackwardFilter, size, channels, batch, backend },
    flags.json,
  );
}

/**
 * One U-Net training step as the trainer runs it: forward in training mode, deep-supervision
 * weighted BCE-with-logits (weights 1/2^i, the lowest head 0, normalised), backward, SGD
 * with Nesterov momentum 0.99. scripts/torch_bench.py times the same network and loss.
 */
async function runTrainStep(flags: TrainStepFlags): Promise<void> {
  const patch = positive(flags.patch, '--patch');
  const batch = positive(flags.batch, '--batch');
  const steps = positive(flags.steps, '--steps');
  const seed = Number(flags.seed);
  const backend = await useBackend(flags.backend);
  const core = await import('@voxseg/core');
  const unet = await import('@voxseg/plugin-unet').catch((err: Error) => {
    throw new CliError(`voxseg bench train-step: @voxseg/plugin-unet is not available (${err.message}); --variant needs its presets`);
  });
  const exp = new core.Experiment().use(unet.unetPlugin());
  try {
    const aa = (await import('@voxseg/plugin-axial-attention')) as { axialAttentionPlugin?: () => import('@voxseg/core').Plugin };
    if (aa.axialAttentionPlugin) exp.use(aa.axialAttentionPlugin());
  } catch {
    // BL+AA stays unknown without the attention plugin; the preset lookup says so.
  }
  const build = (patchSize: number, initialize: boolean) =>
    unet.buildPreset(exp, flags.variant, { inChannels: 4, outChannels: 3, patchSize, deepSupervision: true, seed, initialize });
  let builder: import('@voxseg/core').NetworkBuilder;
  try {
    builder = exp.get('network', exp.get('preset', flags.variant).network);
  } catch (err) {
    throw new CliError(`voxseg bench train-step: --variant ${flags.variant}: ${(err as Error).message}`);
  }
  const decoderStageOf = builder.decoderStageOf ? (name: string) => builder.decoderStageOf!(name) : undefined;
  const encoderStageOf = builder.encoderStageOf ? (name: string) => builder.encoderStageOf!(name) : undefined;
  if (flags.checkpointDecoder && !decoderStageOf) throw new CliError(`voxseg bench train-step: --checkpoint-decoder: network "${builder.name}" does not name its decoder stages`);
  if (flags.checkpointEncoder && !encoderStageOf) throw new CliError(`voxseg bench train-step: --checkpoint-encoder: network "${builder.name}" does not name its encoder stages`);
  const checkpointDecoder = flags.checkpointDecoder === true;
  const checkpointEncoder = flags.checkpointEncoder === true;
  const segmentOf = core.combineSegmentOf(checkpointEncoder ? encoderStageOf : undefined, checkpointDecoder ? decoderStageOf : undefined);
  // Estimate the peak before building anything big; refuse what would be OOM-killed.
  const estimator = core.planEstimator((p) => build(p, false), decoderStageOf, encoderStageOf);
  const plan = { patch, batch, checkpointDecoder, checkpointEncoder };
  const estimate = { totalMb: estimator(plan) };
  if (flags.memoryCheck !== false) {
    const refusal = core.memoryRefusal(plan, estimator, core.availableMemory(), {
      canCheckpoint: decoderStageOf !== undefined,
      canCheckpointEncoder: encoderStageOf !== undefined,
      overrideFlag: '--no-memory-check',
    });
    if (refusal) throw new CliError(`voxseg bench train-step: ${flags.variant}: ${refusal}`);
  }
  let model: import('@tensorflow/tfjs-layers').LayersModel;
  try {
    model = build(patch, true);
  } catch (err) {
    throw new CliError(`voxseg bench train-step: --variant ${flags.variant}: ${(err as Error).message}`);
  }
  const rng = new core.Rng(seed);
  const x = tf.tensor(Float32Array.from({ length: batch * patch ** 3 * 4 }, () => rng.normal()), [batch, patch, patch, patch, 4]);
  const outShapes = model.outputs.map((o) => o.shape as number[]).map((s) => [batch, ...s.slice(1)] as number[]);
  const targets = outShapes.map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s));
  const raw = outShapes.map((_, i) => (outShapes.length > 1 && i === outShapes.length - 1 ? 0 : 1 / 2 ** i));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const optimizer = tf.train.momentum(0.01, 0.99, true);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Async: webgpu has no synchronous reads in Node (and on cpu/native data() costs the same).
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    // The trainer's gradient walk (frees activations and gradients during the backward pass).
    const { value: loss, grads } = core.variableGradsFreeing(() => {
      const out = segmentOf ? core.applyWithCheckpoints(model, x, { training: true, segmentOf }) : model.apply(x, { training: true });
      const outs = ([] as tf.Tensor[]).concat(out as tf.Tensor | tf.Tensor[]);
      return tf.addN(outs.map((o, i) => tf.mul(tf.losses.sigmoidCrossEntropy(targets[i]!, o), weights[i]!))) as tf.Scalar;
    }, vars);
    optimizer.applyGradients(grads as tf.NamedTensorMap as Parameters<typeof optimizer.applyGradients>[0]);
    tf.dispose(Object.values(grads));
    await loss.data();
    loss.dispose();
    return performance.now() - t0;
  };
  await step(); // warm-up: primitive creation, optimizer slots
  const tensorsBefore = tf.memory().numTensors;
  const rssBefore = process.memoryUsage().rss;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(await step());
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const leaked = tf.memory().numTensors - tensorsBefore;
  tf.dispose([x, ...targets]);
  optimizer.dispose();
  model.dispose();
  times.sort((a, b) => a - b);
  const msPerStep = times[Math.floor(times.length / 2)]!;
  // The process's high-water mark (what the kernel's OOM killer compares), in MB.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const checkpointed = [checkpointEncoder ? 'encoder' : '', checkpointDecoder ? 'decoder' : ''].filter(Boolean).join(' and ');
  report(
    `train-step ${flags.variant} patch ${patch}^3 batch ${batch}${checkpointed ? ` (${checkpointed} checkpointed)` : ''} on ${backend}: ${msPerStep.toFixed(0)} ms/step ` +
      `(median of ${steps}; RSS ${rssGrowthMb >= 0 ? '+' : ''}${rssGrowthMb.toFixed(1)} MB, tensors ${leaked >= 0 ? '+' : ''}${leaked} over the timed steps; ` +
      `peak RSS ${peakRssMb.toFixed(0)} MB${estimate ? `, estimated ${estimate.totalMb.toFixed(0)} MB` : ''})`,
    { msPerStep, variant: flags.variant, patch, batch, steps, backend, rssGrowthMb, leakedTensors: leaked, peakRssMb, checkpointDecoder, checkpointEncoder, ...(estimate ? { estimatedPeakMb: estimate.totalMb } : {}) },
    flags.json,
  );
}

/** `voxseg bench conv3d|train-step`: speed of the active backend (see @voxseg/backend-native). */
export const benchCommand: CommandModule = {
  name: 'bench',
  register(program: Command) {
    const bench = program.command('bench').description('benchmark conv3d, a U-Net training step or whole-case inference on a backend');
    bench
      .command('conv3d')
      .description('Conv3D forward + input and filter gradients, 3x3x3 same padding: GFLOP/s')
      .option('--size <S>', 'cubic edge of the activation', '64')
      .option('--channels <C>', 'input and output channels', '32')
      .option('--batch <N>', 'batch size', '1')
      .option('--repeats <R>', 'timed repetitions after a warm-up (best is reported)', '3')
      .option('--backend <B>', 'auto, tensorflow, webgpu, native, cpu, wasm', 'auto')
      .option('--json', 'print {"gflops": x, ...} as the last line')
      .action((flags: Conv3dFlags) => runConv3d(flags));
    bench
      .command('train-step')
      .description('one training step of a U-Net preset (forward, deep-supervised BCE, backward, SGD): ms per step')
      .option('--variant <V>', 'network preset (BL, BL+L, BL+GN, BL+L+GN, BL+AA)', 'BL')
      .option('--patch <P>', 'cubic patch edge', '64')
      .option('--batch <N>', 'batch size', '2')
      .option('--steps <N>', 'timed steps after a warm-up (median is reported)', '3')
      .option('--seed <S>', 'seed of the init and the random batch', '0')
      .option('--backend <B>', 'auto, tensorflow, webgpu, native, cpu, wasm', 'auto')
      .option('--checkpoint-decoder', 'recompute the decoder stages in the backward pass instead of keeping their activations (less memory)')
      .option('--checkpoint-encoder', 'recompute the encoder stages in the backward pass too (each keeps only its input and skip)')
      .option('--no-memory-check', 'run even when the estimated peak memory exceeds the memory available')
      .option('--json', 'print {"msPerStep": y, ...} as the last line')
      .action((flags: TrainStepFlags) => runTrainStep(flags));
    registerBenchInference(bench);
    registerBenchBf16(bench);
  },
};
