/**
 * The experiment config: every part of a training run named as data, so a run is one JSON
 * file and every part is resolved by name through the experiment's registries (a plugin's
 * entries as well as the built-in ones). `voxseg train|cv --config FILE` reads it (CLI flags
 * override it), and every run writes the resolved config to `<run>/config.json`.
 *
 * ```json
 * {
 *   "dataset":      { "name": "auto", "options": { "root": "data" } },
 *   "augmentation": [{ "name": "RandRotate", "options": {} }, ...],
 *   "network":      { "name": "BL", "options": { "deepSupervision": true } },
 *   "loss":         { "name": "deep-supervision", "options": { "loss": "dice-bce", "lossOptions": { "batchDice": true, "smooth": 0 } } },
 *   "optimizer":    { "name": "sgd", "options": { "momentum": 0.99, "nesterov": true, "weightDecay": 3e-5 } },
 *   "scheduler":    { "name": "poly", "options": { "exponent": 0.9 } },
 *   "criterion":    { "name": "pseudo-dice", "options": {} },
 *   "metrics":      [{ "name": "dice" }, { "name": "hd95" }],
 *   "sampler":      { "name": "patch", "options": { "oversampleForegroundPercent": 0.33, "workers": 1 } },
 *   "inference":    { "step": 0.5, "tta": false, "threshold": 0.5, "windowBatchSize": 1, "postprocess": {}, "precision": "fp32" },
 *   "training":     { "epochs": 1000, "iterations": 250, "valIterations": 50, "batch": 2, "patch": 128, "lr": 0.01, ... },
 *   "plugins":      ["./my-plugin.mjs"]
 * }
 * ```
 *
 * The defaults ({@link defaultExperimentConfig}) are the BraTS 2021 winners' recipe (nnU-Net's
 * `nnUNetTrainerV2BraTSRegions_DA4_BN`, see docs/method.md).
 */

/** A part chosen by name: a registry name and the options merged over the factory's defaults. */
export interface ComponentConfig {
  name: string;
  options: Record<string, unknown>;
}

/** Sizes and settings of the training loop and of the fold split. */
export interface TrainingConfig {
  /** Epochs. Default 1000. */
  epochs: number;
  /** Training iterations per epoch. Default 250. */
  iterations: number;
  /** Validation batches per epoch (online validation criterion). Default 50. */
  valIterations: number;
  /** Batch size. Default 2. */
  batch: number;
  /** Cubic patch edge. Default 128. */
  patch: number;
  /** Initial learning rate, handed to the scheduler. Default 0.01. */
  lr: number;
  /** Total gradient-norm clipping threshold, or null for none. Default 12. */
  clipNorm: number | null;
  /** Seed of every random decision of the run. Default 12345. */
  seed: number;
  /** Fold trained by `voxseg train`. Default 0. */
  fold: number;
  /** Folds of the split. Default 5. */
  folds: number;
  /** Seed of the fold split (nnU-Net's KFold over sorted ids). Default 12345. */
  splitSeed: number;
  /** tfjs backend: auto | native | cpu | wasm | tensorflow | webgpu. Default auto. */
  backend: string;
  /** Leave invalid cases out (listed) instead of refusing to train. Default false. */
  skipInvalid: boolean;
  /**
   * Gradient checkpointing of the decoder: each decoder stage's activations are recomputed in
   * the backward pass instead of kept (the network's builder must name its stages, as `unet`
   * does). Same gradients, less memory, about one more decoder forward pass per step. Default false.
   */
  checkpointDecoder: boolean;
  /**
   * Gradient checkpointing of the encoder stages too (`--checkpoint-encoder`): each stage keeps
   * only its input and output (the skip) for the backward pass and recomputes its convs and norms
   * there; needs a network builder with `encoderStageOf` (the `unet` builder has it). Same
   * gradients, less memory (most at full resolution), about one more encoder forward pass per
   * step. Default false.
   */
  checkpointEncoder: boolean;
  /**
   * Estimate the run's peak memory before it starts and refuse, in one line naming the estimate
   * and the settings that fit, when it exceeds the machine's memory (`VOXSEG_MEMORY_LIMIT_MB`
   * caps it). Default true; false (`--no-memory-check`) starts anyway.
   */
  memoryCheck: boolean;
}

/** How whole cases are predicted (end-of-training validation and `voxseg predict`). */
export interface InferenceConfig {
  /** Sliding-window step as a fraction of the patch. Default 0.5. */
  step: number;
  /** 8-way mirroring test-time augmentation. Default false. */
  tta: boolean;
  /** Probability above which a target channel counts as present. Default 0.5. */
  threshold: number;
  /** Windows per network call. Default 1. */
  windowBatchSize: number;
  /**
   * Options of the dataset's post-processing (`Dataset.postprocess`), or false to skip it.
   * Default `{}` (the dataset's defaults; BraTS: ET below 200 voxels becomes necrosis).
   */
  postprocess: Record<string, unknown> | false;
  /**
   * Arithmetic of the inference convolutions: `fp32` (default) or `bf16` (the `native`
   * backend's oneDNN bf16 convolutions, f32 accumulation and probabilities; refused in one
   * line on other backends and on CPUs without AVX512-BF16/AMX).
   */
  precision: 'fp32' | 'bf16';
}

/** Everything that defines a training run. See the module docs for the JSON form. */
export interface ExperimentConfig {
  /** The dataset (`auto`: the registered dataset whose `detect(root)` recognises the folder). */
  dataset: ComponentConfig;
  /** Training augmenters, in order (default: the DA4 pipeline). */
  augmentation: ComponentConfig[];
  /** A network preset (`BL`, `BL+L+GN`, ...) or a network builder name (`unet`), with options. */
  network: ComponentConfig;
  /** The loss. */
  loss: ComponentConfig;
  /** The optimizer (`sgd`, `adamw`, or a plugin's). */
  optimizer: ComponentConfig;
  /** The learning-rate schedule (`poly`, `warmup-cosine`, or a plugin's). */
  scheduler: ComponentConfig;
  /** The online validation criterion (EMA, `best` checkpoint). */
  criterion: ComponentConfig;
  /** Metrics of the whole-case evaluation (`metrics.json`, `voxseg evaluate`). */
  metrics: ComponentConfig[];
  /** Turns loaded cases into batches (`patch`: nnU-Net's sampler; option `workers` for threads). */
  sampler: ComponentConfig;
  inference: InferenceConfig;
  training: TrainingConfig;
  /** Plugin modules loaded before anything is resolved (npm names or file paths), as `--plugin`. */
  plugins: string[];
  /** Free text, kept in config.json. */
  note?: string;
}

/** The DA4 augmentation pipeline of the BraTS 2021 winners, by registry name, in order. */
export const DA4_AUGMENTATION: readonly string[] = [
  'RandRotate',
  'RandScale',
  'RandElastic',
  'RandGaussianNoise',
  'RandGaussianBlur',
  'RandBrightnessMultiplicative',
  'RandContrast',
  'RandLowResolution',
  'RandGammaInverted',
  'RandBrightnessAdditive',
  'RandGamma',
  'RandMirror',
];

/** The published recipe (a fresh object each call: callers may modify it). */
export function defaultExperimentConfig(): ExperimentConfig {
  return {
    dataset: { name: 'auto', options: {} },
    augmentation: DA4_AUGMENTATION.map((name) => ({ name, options: {} })),
    network: { name: 'BL', options: { deepSupervision: true } },
    loss: { name: 'deep-supervision', options: { loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } } },
    optimizer: { name: 'sgd', options: { momentum: 0.99, nesterov: true, weightDecay: 3e-5 } },
    scheduler: { name: 'poly', options: { exponent: 0.9 } },
    criterion: { name: 'pseudo-dice', options: {} },
    metrics: [{ name: 'dice', options: {} }, { name: 'hd95', options: {} }],
    sampler: { name: 'patch', options: { oversampleForegroundPercent: 0.33, workers: 1 } },
    inference: { step: 0.5, tta: false, threshold: 0.5, windowBatchSize: 1, postprocess: {}, precision: 'fp32' },
    training: {
      epochs: 1000,
      iterations: 250,
      valIterations: 50,
      batch: 2,
      patch: 128,
      lr: 0.01,
      clipNorm: 12,
      seed: 12345,
      fold: 0,
      folds: 5,
      splitSeed: 12345,
      backend: 'auto',
      skipInvalid: false,
      checkpointDecoder: false,
      checkpointEncoder: false,
      memoryCheck: true,
    },
    plugins: [],
  };
}
