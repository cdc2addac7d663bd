import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BatchProvider } from '../contracts/batch.js';
import type { Loss } from '../contracts/loss.js';
import type { ValidationCriterion } from '../contracts/criterion.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Scheduler } from '../contracts/scheduler.js';
import type { EventLogger } from '../events/event-bus.js';
import type { ModelMeta } from '../io/model-files.js';
import type { Rng } from '../random/rng.js';
import type { SegmentOf } from './checkpointed-apply.js';

/**
 * Everything a {@link Trainer} needs. Defaults are nnU-Net's (and the BraTS 2021 winners')
 * settings from docs/method.md "Training"; only `model`, `loss` and `train` are required.
 */
export interface TrainerConfig {
  /**
   * The network, built by a NetworkBuilder or by hand: input `[N, D, H, W, C]`, output logits
   * `[N, D, H, W, K]`, or a list of them with deep supervision (highest resolution first).
   * The trainer updates its weights in place.
   */
  model: tfl.LayersModel;
  /** The loss; receives all outputs and `[fullResolutionTarget]` (it downsamples for lower heads). */
  loss: Loss;
  /** Learning-rate schedule. Default: `poly` (lr0 * (1 - epoch/epochs)^0.9, per epoch). */
  scheduler?: Scheduler;
  /** Training batches; batch `i` of the run is `train.batch(i)`, `i = epoch * iterationsPerEpoch + iteration`. */
  train: BatchProvider;
  /**
   * Validation batches (optional): each epoch uses `val.batch(epoch * valIterations + j)`,
   * j < valIterations, so every epoch sees fresh batches as in nnU-Net. Without it there is no
   * validationEnd event, no EMA and no `best` checkpoint.
   */
  val?: BatchProvider;
  /** Epochs. Default 1000. */
  epochs?: number;
  /** Training iterations (batches) per epoch. Default 250. */
  iterationsPerEpoch?: number;
  /** Validation batches per epoch (when `val` is given). Default 50. */
  valIterations?: number;
  /** Initial learning rate, handed to the scheduler. Default 0.01. */
  initialLr?: number;
  /**
   * Creates the optimizer for the model's trainable variables (e.g.
   * `(vars) => experiment.get('optimizer', 'adamw').create(options, vars, experiment)`).
   * Default: {@link SGD} with `momentum`, `nesterov` and `weightDecay` below.
   */
  optimizer?: (variables: readonly tf.Variable[]) => Optimizer;
  /**
   * The online validation criterion (`validationEnd.dice` / `meanDice`, the EMA and the `best`
   * checkpoint). Default: nnU-Net's pseudo-Dice (registry name `pseudo-dice`).
   */
  criterion?: ValidationCriterion;
  /** SGD momentum (default optimizer only). Default 0.99. */
  momentum?: number;
  /** SGD L2 weight decay (PyTorch style: added to the gradient after clipping). Default 3e-5. */
  weightDecay?: number;
  /** Nesterov momentum. Default true. */
  nesterov?: boolean;
  /** Gradient-norm clipping threshold (total L2 norm, as torch's clip_grad_norm_); `null` disables. Default 12. */
  clipNorm?: number | null;
  /** Weight of the previous value in the EMA of the mean pseudo-Dice (`ema = a*ema + (1-a)*dice`). Default 0.9 (nnU-Net v2). */
  emaAlpha?: number;
  /**
   * Run folder. Checkpoints go to `<outDir>/checkpoints/{last,best,final,manual}/`. Without it
   * nothing is written and no checkpointSaved event fires.
   */
  outDir?: string;
  /**
   * Where the final model is also copied when the run completes (`<run>/model` in the CLI),
   * atomically, before runEnd: a failure there (a full disk) ends the run with
   * `runEnd { reason: 'error' }`, never `completed`. Needs `outDir`. Default: none.
   */
  modelDir?: string;
  /**
   * A file other processes append commands to, one JSON {@link TrainerCommand} with an `id` per
   * line (`{"id":"c1","type":"stop"}`; `appendCommand` writes one). The trainer reads the lines
   * appended since it last looked, every time it takes commands (after each iteration and at
   * each epoch start), acknowledges each with `commandApplied { id }`, and reports a malformed
   * line with `commandRejected` (it is ignored). Lines present before `run()` started are never
   * replayed. Default `<outDir>/commands.jsonl` when `outDir` is set; `null` turns it off.
   */
  commandsFile?: string | null;
  /** Write `last` every this many epochs (and always on stop and at the last epoch). Default 1. */
  saveEvery?: number;
  /**
   * Continue an interrupted run. `true`: from `<outDir>/checkpoints/last`; if that does not
   * exist the run starts from scratch with a warning (nnU-Net's `--c` behaviour). A string: that
   * checkpoint folder, which must exist. Default false.
   */
  resume?: boolean | string;
  /** Seed of the run, reported in runStart and used for the default `rng`. Default 0. */
  seed?: number;
  /**
   * The run's random generator. The trainer itself draws nothing from it (batches are
   * deterministic by index) but saves and restores its state in checkpoints, so components
   * that share it (augmentation in this process, dropout) resume exactly. Default `new Rng(seed)`.
   */
  rng?: Rng;
  /** Run id stamped on every event. Default `run-<ISO time>`; on resume the checkpoint's id is used. */
  runId?: string;
  /** Network name for runStart (preset or builder). Default the model's name. */
  network?: string;
  /** Backend name for runStart. Default `tf.getBackend()`. */
  backend?: string;
  /** Registered plugins for runStart (e.g. `experiment.pluginList()`). Default []. */
  plugins?: { name: string; version: string }[];
  /** Region names of the target channels, for validationEnd. Default `train.targetChannels`. */
  targetChannels?: string[];
  /**
   * JSON metadata stored in each checkpoint's `model.json` under `userDefinedMetadata.voxseg`,
   * merged over what the model already carries there (plugin-unet: network, variant, options).
   * The trainer adds `regions` (= targetChannels), `runId` and `checkpoint` (the kind). Default {}.
   */
  modelMeta?: ModelMeta;
  /** Receives warnings (subscriber exceptions, resume fallbacks). Default `console`. */
  logger?: EventLogger;
  /** Clock in ms since the Unix epoch, for timestamps and durations. Default `Date.now`. */
  now?: () => number;
  /**
   * Gradient checkpointing: the layers this names are run in segments whose activations are
   * recomputed in the backward pass instead of kept (see {@link applyWithCheckpoints}); less
   * memory for about one more forward pass of those layers per step. Gradients are unchanged.
   * E.g. the `unet` builder's `decoderStageOf` (each decoder stage one segment). Default: none.
   */
  checkpoint?: SegmentOf;
}

/** The config with every default applied. */
export type ResolvedTrainerConfig = Required<Omit<TrainerConfig, 'val' | 'outDir' | 'modelDir' | 'clipNorm' | 'optimizer' | 'commandsFile' | 'checkpoint'>> &
  { optimizer: (variables: readonly tf.Variable[]) => Optimizer } &
  Pick<TrainerConfig, 'val' | 'outDir' | 'modelDir' | 'commandsFile' | 'checkpoint'> & { clipNorm: number | null };
