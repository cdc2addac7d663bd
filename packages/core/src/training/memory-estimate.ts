import { readFileSync } from 'node:fs';
import os from 'node:os';
import type * as tfl from '@tensorflow/tfjs-layers';
import { combineSegmentOf, type SegmentOf } from './checkpointed-apply.js';

/**
 * A layer whose backward pass keeps more than its output (attention keeps its score matrices):
 * it reports the float32 elements per sample it keeps for the backward pass, its output
 * included. Other layers count their output only.
 */
export interface TrainingActivationCounter {
  trainingActivationElements(inputShape: tfl.Shape | tfl.Shape[]): number;
}

/** The calibrated constants of {@link estimateTrainingMemory} (see its documentation). */
export const TRAINING_MEMORY_MODEL = Object.freeze({
  /** Process baseline: Node, TensorFlow.js, the oneDNN addon, the batch itself (MB). */
  baseMb: 196,
  /**
   * Bytes per trainable parameter: weights, gradients, SGD momentum, a transient update and
   * oneDNN's reordered weights (about 9 x float32).
   */
  bytesPerParameter: 36.6,
  /**
   * Bytes per kept activation element: float32 (4 B) plus what is alive with it at the peak
   * (the gradients in flight, which the freeing backward walk disposes as soon as they are
   * used, and allocator slack), fitted to measured peaks.
   */
  bytesPerActivation: 4.31,
  /**
   * Bytes per element of the largest recomputed segment: its activations and their gradients
   * are alive together while the activations kept outside it still are (fitted).
   */
  bytesPerSegmentActivation: 7.64,
});

/** What {@link estimateTrainingMemory} returns (MB = 2^20 bytes). */
export interface TrainingMemoryEstimate {
  /** The estimated peak resident memory of the training process. */
  totalMb: number;
  /** Activations kept for the backward pass and their gradients. */
  activationsMb: number;
  /** Weights, gradients and optimizer state. */
  parametersMb: number;
  /** The process baseline. */
  baseMb: number;
  /** Trainable parameters counted. */
  parameters: number;
  /** Float32 elements per sample kept for the backward pass (outside recomputed segments). */
  keptElements: number;
  /** Float32 elements per sample of the largest recomputed segment (0 without checkpointing). */
  segmentElements: number;
}

function elements(shape: tfl.Shape | tfl.Shape[]): number {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
  return s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
}

/** Elements per sample a layer keeps for the backward pass (its output, or what it reports). */
function keptElements(layer: tfl.layers.Layer): number {
  const counter = layer as unknown as Partial<TrainingActivationCounter>;
  if (typeof counter.trainingActivationElements === 'function') {
    const input = layer.input;
    return counter.trainingActivationElements(Array.isArray(input) ? input.map((t) => t.shape) : input.shape);
  }
  return elements(layer.outputShape);
}

/**
 * Estimate the peak resident memory of training `model` with SGD at batch size `batch`,
 * before running it: every layer's output (or, for layers that keep more, what they report
 * through {@link TrainingActivationCounter}) is kept for the backward pass, the gradients in
 * flight add a share of that (the trainer's backward walk, `variableGradsFreeing`, frees each
 * activation and gradient once used), and the parameters cost weights + gradients + momentum.
 *
 * With `segmentOf` (gradient checkpointing, see `applyWithCheckpoints`), a segment keeps
 * only its outputs, and the backward pass holds one segment's activations (and their
 * gradients) at a time: the largest segment is added once, at its own rate.
 *
 * The constants ({@link TRAINING_MEMORY_MODEL}) minimise the worst relative error over peak
 * RSS measured with `voxseg bench train-step --steps 1` on the `native` backend: BL and BL+AA
 * at patches 32, 48 and 64, batch 1 and 2, plain and checkpointed, and BL+AA at 128^3 batch 2
 * with encoder and decoder checkpointed (the backend README lists the measurements and the
 * fit's error, at most 15%).
 */
export function estimateTrainingMemory(model: tfl.LayersModel, options: { batch: number; segmentOf?: SegmentOf }): TrainingMemoryEstimate {
  const { batch, segmentOf } = options;
  const m = TRAINING_MEMORY_MODEL;
  let kept = 0;
  let largestSegment = 0;
  let segment: { key: string; elements: number } | undefined;
  const closeSegment = () => {
    if (segment) largestSegment = Math.max(largestSegment, segment.elements);
    segment = undefined;
  };
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const key = segmentOf?.(layer.name);
    const own = keptElements(layer);
    if (key === undefined) {
      closeSegment();
      kept += own;
      continue;
    }
    if (segment?.key !== key) {
      closeSegment();
      segment = { key, elements: 0 };
    }
    segment.elements += own;
    // The segment's last layer: its output is the segment's output, kept as usual.
    if (segmentOf?.(layers[i + 1]?.name ?? '') !== key) kept += elements(layer.outputShape);
  }
  closeSegment();
  const parameters = model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  const activationsMb = ((kept * m.bytesPerActivation + largestSegment * m.bytesPerSegmentActivation) * batch) / 2 ** 20;
  const parametersMb = (parameters * m.bytesPerParameter) / 2 ** 20;
  return { totalMb: m.baseMb + activationsMb + parametersMb, activationsMb, parametersMb, baseMb: m.baseMb, parameters, keptElements: kept, segmentElements: largestSegment };
}

/** The memory a process may use here, and where the figure comes from. */
export interface AvailableMemory {
  mb: number;
  source: string;
}

function readLimit(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    const n = Number(text);
    // cgroup v2 says "max"; v1 says a huge number when unlimited.
    return Number.isFinite(n) && n > 0 && n < 2 ** 60 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The machine's memory for a training run: `VOXSEG_MEMORY_LIMIT_MB` when set (a cap of
 * the user's, also how the refusal is tested), else the smaller of the physical memory
 * (`os.totalmem()`) and the process's cgroup limit (v2 `memory.max`, v1
 * `memory.limit_in_bytes`), which is what the kernel's OOM killer enforces in a container or
 * a Slurm job.
 */
export function availableMemory(env: NodeJS.ProcessEnv = process.env): AvailableMemory {
  const cap = env.VOXSEG_MEMORY_LIMIT_MB;
  if (cap !== undefined && cap !== '') {
    const mb = Number(cap);
    if (!(mb > 0)) throw new Error(`VOXSEG_MEMORY_LIMIT_MB must be a positive number of MB, got '${cap}'`);
    return { mb, source: 'VOXSEG_MEMORY_LIMIT_MB' };
  }
  let best: AvailableMemory = { mb: os.totalmem() / 2 ** 20, source: 'physical memory' };
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const limit = readLimit(file);
    if (limit !== undefined && limit / 2 ** 20 < best.mb) best = { mb: limit / 2 ** 20, source: `cgroup limit ${file}` };
  }
  return best;
}

/** A training configuration the memory check can vary. */
export interface MemoryPlan {
  patch: number;
  batch: number;
  checkpointDecoder: boolean;
  /** Encoder stages checkpointed too (`--checkpoint-encoder`). Default false. */
  checkpointEncoder?: boolean;
}

/** Format MB as GB with one decimal (what people compare with their machine). */
export function formatGb(mb: number): string {
  return `${(mb / 1024).toFixed(1)} GB`;
}

/**
 * Refuse a training run whose estimated peak exceeds the available memory, before it starts
 * (instead of the kernel's OOM killer ending it without a word). Returns `undefined` when it
 * fits, else one line naming the estimate, the memory, and the changes that fit, each with
 * its own estimate: `--checkpoint-decoder` (when the network supports it and it is off),
 * `--batch 1`, and the largest smaller patch (multiples of 16 down to 32), alone or combined.
 *
 * @param estimate the estimated peak (MB) of a plan; called for the plan and the alternatives
 * @param canCheckpoint whether the network supports `checkpointDecoder`
 */
export function memoryRefusal(
  plan: MemoryPlan,
  estimate: (plan: MemoryPlan) => number,
  available: AvailableMemory,
  options: { canCheckpoint: boolean; canCheckpointEncoder?: boolean; overrideFlag: string },
): string | undefined {
  const need = estimate(plan);
  if (need <= available.mb) return undefined;
  const flags = (p: MemoryPlan) =>
    [
      p.checkpointDecoder && !plan.checkpointDecoder ? '--checkpoint-decoder' : '',
      p.checkpointEncoder && !plan.checkpointEncoder ? '--checkpoint-encoder' : '',
      p.batch !== plan.batch ? `--batch ${p.batch}` : '', p.patch !== plan.patch ? `--patch ${p.patch}` : '']
      .filter(Boolean)
      .join(' ');
  const fitting = (p: MemoryPlan): string | undefined => {
    const mb = estimate(p);
    return mb <= available.mb ? `${flags(p)} (${formatGb(mb)})` : undefined;
  };
  /** The largest patch below the plan's (multiples of 16, at least 32) that fits, with `base`'s other settings. */
  const smallerPatch = (base: MemoryPlan): string | undefined => {
    for (let patch = Math.floor((plan.patch - 1) / 16) * 16; patch >= 32; patch -= 16) {
      const hit = fitting({ ...base, patch });
      if (hit) return hit;
    }
    return undefined;
  };
  const ckpt = options.canCheckpoint && !plan.checkpointDecoder;
  // Checkpointing the encoder is offered together with the decoder's (it is the smaller saving).
  const ckptAll = options.canCheckpointEncoder === true && !plan.checkpointEncoder;
  const all: Partial<MemoryPlan> = { ...(options.canCheckpoint ? { checkpointDecoder: true } : {}), checkpointEncoder: true };
  // Single changes first (checkpointing counts as one); combinations only when none fits.
  const single = [
    ckpt ? fitting({ ...plan, checkpointDecoder: true }) : undefined,
    ckptAll && !(ckpt && fitting({ ...plan, checkpointDecoder: true })) ? fitting({ ...plan, ...all }) : undefined,
    plan.batch > 1 ? fitting({ ...plan, batch: 1 }) : undefined, smallerPatch(plan)];
  let fits = single.filter((f): f is string => f !== undefined);
  if (fits.length === 0) {
    const combos = [
      ckpt && plan.batch > 1 ? fitting({ ...plan, checkpointDecoder: true, batch: 1 }) : undefined,
      ckpt ? smallerPatch({ ...plan, checkpointDecoder: true }) : undefined,
      plan.batch > 1 ? smallerPatch({ ...plan, batch: 1 }) : undefined,
      ckpt && plan.batch > 1 ? smallerPatch({ ...plan, checkpointDecoder: true, batch: 1 }) : undefined,
      ckptAll && plan.batch > 1 ? fitting({ ...plan, ...all, batch: 1 }) : undefined,
      ckptAll ? smallerPatch({ ...plan, ...all }) : undefined,
    ];
    fits = combos.filter((f): f is string => f !== undefined);
  }
  const any = fits.length > 0;
  const checkpointed = [plan.checkpointEncoder ? 'encoder' : '', plan.checkpointDecoder ? 'decoder' : ''].filter(Boolean).join(' and ');
  const what = `batch ${plan.batch}, patch ${plan.patch}${checkpointed ? `, ${checkpointed} checkpointed` : ''}`;
  const advice = any ? `options that fit: ${fits.join(', ')}` : 'nothing tried fits (checkpointing, batch 1, patches down to 32)';
  return `estimated peak memory ${formatGb(need)} (${what}) exceeds the ${formatGb(available.mb)} available (${available.source}); ${advice}; ${options.overrideFlag} runs it anyway`;
}

/**
 * The estimator {@link memoryRefusal} needs, from a function that builds the network at a
 * patch size (weights need not be initialised: only shapes are read). Each patch is built
 * once, and disposed straight after.
 *
 * @param decoderStageOf the network's decoder stages (`checkpointDecoder`)
 * @param encoderStageOf the network's encoder stages (`checkpointEncoder`)
 */
export function planEstimator(build: (patch: number) => tfl.LayersModel, decoderStageOf?: SegmentOf, encoderStageOf?: SegmentOf): (plan: MemoryPlan) => number {
  const byPatch = new Map<number, Map<string, TrainingMemoryEstimate>>();
  const segmentsFor = (plan: MemoryPlan) =>
    combineSegmentOf(plan.checkpointEncoder ? encoderStageOf : undefined, plan.checkpointDecoder ? decoderStageOf : undefined);
  const keyOf = (plan: MemoryPlan) => `${plan.checkpointEncoder && encoderStageOf ? 'e' : ''}${plan.checkpointDecoder && decoderStageOf ? 'd' : ''}`;
  return (plan) => {
    let e = byPatch.get(plan.patch);
    if (!e) {
      const model = build(plan.patch);
      e = new Map();
      try {
        for (const variant of [false, true].flatMap((enc) => [false, true].map((dec) => ({ ...plan, checkpointEncoder: enc, checkpointDecoder: dec })))) {
          const key = keyOf(variant);
          if (e.has(key)) continue;
          const segmentOf = segmentsFor(variant);
          e.set(key, estimateTrainingMemory(model, { batch: 1, ...(segmentOf ? { segmentOf } : {}) }));
        }
      } finally {
        model.dispose();
      }
      byPatch.set(plan.patch, e);
    }
    const one = e.get(keyOf(plan))!;
    // Activations grow linearly with the batch; parameters and the baseline do not.
    return one.totalMb + one.activationsMb * (plan.batch - 1);
  };
}
