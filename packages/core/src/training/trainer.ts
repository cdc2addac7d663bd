import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
// tfjs-layers registers tfjs-core's gradient kernels on import; tf.variableGrads needs them.
import '@tensorflow/tfjs-layers';
import type { Observable } from 'rxjs';
import type { Batch, BatchProvider } from '../contracts/batch.js';
import { EventBus } from '../events/event-bus.js';
import type { TrainerCommand, TrainingEvent, TrainingEventMap } from '../events/types.js';
import { Rng } from '../random/rng.js';
import { copyDirAtomic } from '../io/atomic-dir.js';
import { fsErrorFor } from '../io/fs-error.js';
import { checkpointDir, type CheckpointKind, cleanCheckpoints, hasCheckpoint, restoreCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint.js';
import { variableGradsFreeing } from './backprop.js';
import { applyWithCheckpoints } from './checkpointed-apply.js';
import { clipCoefficient } from './clip-grad-norm.js';
import { commandsFilePath, CommandsFileFollower } from './commands-file.js';
import { polyScheduler } from './poly-scheduler.js';
import type { Optimizer } from '../contracts/optimizer.js';
import { pseudoDiceCriterion } from './pseudo-dice.js';
import { SGD } from './sgd.js';
import type { ResolvedTrainerConfig, TrainerConfig } from './trainer-config.js';

/** What {@link Trainer.run} resolves with. */
export interface TrainingSummary {
  runId: string;
  /** Why the run ended (the runEnd event's reason). */
  reason: 'completed' | 'stopped' | 'error';
  /** The error message when `reason` is `error`, or the stop reason when one was given. */
  message?: string;
  /** Epochs fully completed (validation and epochEnd done), counting epochs of resumed runs. */
  epochsCompleted: number;
  /** Training iterations done in total, including those before a resume. */
  iterations: number;
  /** Loss of the last training iteration of this process, if any. */
  lastLoss?: number;
  /** Mean training loss of the last completed epoch of this process. */
  lastTrainLoss?: number;
  /** Last validation mean pseudo-Dice, its EMA, and the best EMA (the `best` checkpoint's). */
  lastMeanDice?: number;
  emaDice?: number;
  bestEmaDice?: number;
  /** Wall time of `run()`, ms. */
  ms: number;
  /** Checkpoint folders written by this process, by kind (the latest of each). */
  checkpoints: Partial<Record<CheckpointKind, string>>;
}

/** Thrown inside the loop to end the run with an `error` event; `source` goes into the event. */
class RunError extends Error {
  constructor(message: string, readonly source: 'trainer' | 'data') {
    super(message);
  }
}

/** Internal signal: a stop command was taken. */
const STOP = Symbol('stop');

/**
 * nnU-Net's training loop on TensorFlow.js: SGD (momentum 0.99, Nesterov, weight decay 3e-5,
 * PyTorch semantics), gradient-norm clipping at 12, poly learning rate per epoch,
 * epochs x iterations, deep-supervision outputs, online pseudo-Dice validation each epoch,
 * `last` / `best` / `final` checkpoints written atomically, exact resume.
 *
 * Observe it through {@link Trainer.events$}; steer it with commands ({@link Trainer.stop},
 * {@link Trainer.setLearningRate}, {@link Trainer.saveCheckpoint}), which take effect between
 * iterations. The trainer never throws from `run()` for failures during the run: they end it
 * with `error` + `runEnd { reason: 'error' }` and `run()` resolves with that reason. Invalid
 * configuration throws from the constructor.
 *
 * Events, in order (every event carries runId, epoch, iteration, timestamp):
 *
 * | event | when | iteration field |
 * |---|---|---|
 * | runStart | once, after a resume was restored | the iteration training starts at |
 * | epochStart { lr } | before the first iteration of each epoch (also a resumed one) | start iteration (0 unless resumed mid-epoch) |
 * | batchEnd { loss, lr, ms } | after each iteration's update; `ms` is the iteration's wall time incl. waiting for data | index of that iteration |
 * | checkpointSaved { kind: 'manual' } | after the batchEnd following a saveCheckpoint command | the position reached (batchEnd's + 1) |
 * | validationEnd { loss, dice, meanDice, ms } | after the epoch's iterations, when `val` is set | iterationsPerEpoch |
 * | epochEnd { trainLoss, valLoss?, meanDice?, emaDice?, lr, ms } | after validation | iterationsPerEpoch |
 * | checkpointSaved { kind: 'last' } then { kind: 'best' } | after epochEnd, with `outDir` (`best` when the EMA improved) | iterationsPerEpoch |
 * | checkpointSaved { kind: 'final' }, runEnd { reason: 'completed' } | after the last epoch (and the copy to `modelDir`, when set) | iterationsPerEpoch |
 *
 * | commandApplied { id, command } | when a command sent with an `id` is taken (before the effects above) | the position reached |
 * | commandRejected { id?, message } | when a line of the commands file is not a valid command (ignored, logged) | the position reached |
 *
 * Commands are taken after each batchEnd and at each epoch boundary (before epochStart).
 * Besides {@link Trainer.send}, they arrive from other processes through the commands file
 * (`<outDir>/commands.jsonl` by default, see {@link TrainerConfig.commandsFile}): one JSON
 * command per line, read by byte offset each time commands are taken; lines written before
 * `run()` started are not replayed.
 * On a stop command: checkpointSaved
 * { kind: 'last' } (with `outDir`), then runEnd { reason: 'stopped' }; no further epochStart or
 * batchEnd; their epoch/iteration fields give the position the run would continue at. An
 * error before runStart (e.g. an unreadable resume checkpoint) gives error then runEnd only.
 * On a failure (non-finite loss or gradient norm, an exception from the data, the
 * model, the loss, a checkpoint write or the final model copy): error { fatal: true, source: 'data' | 'trainer' },
 * then runEnd { reason: 'error' }; no checkpoint is written, so the last good one stays; the
 * update of a step with a non-finite loss is not applied. The stream completes after runEnd.
 *
 * Validation follows nnU-Net v2: the model runs with `training: false`; pseudo-Dice per region
 * is 2tp/(2tp+fp+fn) of sigmoid(full-resolution logits) > 0.5, tp/fp/fn summed over all
 * validation batches; a region empty in prediction and target has Dice NaN and is left out
 * of the mean (`np.nanmean`); EMA `= 0.9 * ema + 0.1 * meanDice` (the first value as is), not
 * updated by a NaN mean (nnU-Net would propagate the NaN); `best` is written when the EMA
 * exceeds the best so far.
 *
 * At start, with `outDir`, what a crash left in `checkpoints/` is cleaned: of each kind the
 * newest complete checkpoint (by its recorded epoch and iteration) is kept, the leftovers of
 * interrupted writes are deleted ({@link cleanCheckpoints}).
 *
 * Resume restores weights, momentum buffers, epoch and iteration position, the pending
 * learning-rate override, the RNG state, EMA and best, and continues at the next batch index:
 * an interrupted and resumed run ends with bit-identical weights to an uninterrupted one.
 */
export class Trainer {
  /** Every training event of the run (an Observable, never the Subject). */
  readonly events$: Observable<TrainingEvent>;
  /** Every command sent to the trainer, as sent. */
  readonly commands$: Observable<TrainerCommand>;
  private readonly cfg: ResolvedTrainerConfig;
  private readonly bus: EventBus;
  private started = false;
  private currentRunId: string;

  constructor(config: TrainerConfig) {
    this.cfg = resolveConfig(config);
    this.currentRunId = this.cfg.runId;
    this.bus = new EventBus({ context: { runId: this.currentRunId }, logger: this.cfg.logger, now: this.cfg.now });
    this.events$ = this.bus.events$;
    this.commands$ = this.bus.commands$;
  }

  /** The run id stamped on events (the checkpoint's after a resume). */
  get runId(): string {
    return this.currentRunId;
  }

  /** The resolved configuration (defaults applied). */
  get config(): Readonly<ResolvedTrainerConfig> {
    return this.cfg;
  }

  /** Send a command; it takes effect between iterations. */
  send(command: TrainerCommand): void {
    this.bus.send(command);
  }

  /** Stop after the current iteration: `last` checkpoint, runEnd { reason: 'stopped' }. */
  stop(reason?: string): void {
    this.bus.stop(reason);
  }

  /** Use `lr` from the next iteration on; until the next epoch start unless `persistent`. */
  setLearningRate(lr: number, persistent = false): void {
    this.bus.setLearningRate(lr, persistent);
  }

  /** Write a `manual` checkpoint after the current iteration. */
  saveCheckpoint(): void {
    this.bus.saveCheckpoint();
  }

  /** Run the training. Call once; resolves (never rejects for run failures) with a summary. */
  async run(): Promise<TrainingSummary> {
    if (this.started) throw new Error('Trainer.run() can be called only once per Trainer');
    this.started = true;
    return new TrainingRun(this.cfg, this.bus, (id) => (this.currentRunId = id)).execute();
  }
}

/** One execution of the loop; holds the mutable state so the Trainer object stays small. */
class TrainingRun {
  private readonly model: tfl.LayersModel;
  private readonly variables: tf.Variable[];
  private optimizer: Optimizer | undefined;
  private readonly t0: number;
  private epoch = 0;
  private iteration = 0;
  private epochsCompleted = 0;
  private globalIteration = 0;
  private epochLossSum = 0;
  private lrOverride: { lr: number; persistent: boolean } | null = null;
  private emaDice: number | null = null;
  private bestEmaDice: number | null = null;
  private readonly summary: Omit<TrainingSummary, 'reason' | 'ms' | 'epochsCompleted' | 'iterations'> & { checkpoints: TrainingSummary['checkpoints'] };
  private trainPrefetch: { index: number; promise: Promise<Batch> } | null = null;
  private stopReason: string | undefined;
  private commandsFile: CommandsFileFollower | null = null;

  constructor(
    private readonly cfg: ResolvedTrainerConfig,
    private readonly bus: EventBus,
    private readonly onRunId: (id: string) => void,
  ) {
    this.model = cfg.model;
    this.variables = cfg.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.t0 = cfg.now();
    this.summary = { runId: cfg.runId, checkpoints: {} };
  }

  async execute(): Promise<TrainingSummary> {
    let reason: TrainingSummary['reason'] = 'completed';
    let message: string | undefined;
    try {
      // From here on lines appended to the commands file are taken; older ones are not replayed.
      const file = this.cfg.commandsFile === undefined ? (this.cfg.outDir ? commandsFilePath(this.cfg.outDir) : null) : this.cfg.commandsFile;
      if (file) this.commandsFile = new CommandsFileFollower(file);
      this.optimizer = this.cfg.optimizer(this.variables);
      // What a crash left (half-written or set-aside checkpoint folders): keep the newest
      // complete checkpoint of each kind, by its own recorded position, delete the rest.
      if (this.cfg.outDir) await cleanCheckpoints(this.cfg.outDir);
      const resumed = await this.maybeResume();
      this.setContext();
      this.bus.emit('runStart', {
        epochs: this.cfg.epochs,
        iterationsPerEpoch: this.cfg.iterationsPerEpoch,
        backend: this.cfg.backend,
        network: this.cfg.network,
        parameters: this.variables.reduce((n, v) => n + v.size, 0),
        seed: this.cfg.seed,
        startEpoch: this.epoch,
        resumed,
        plugins: this.cfg.plugins,
      });
      const outcome = await this.loop();
      if (outcome === STOP) {
        reason = 'stopped';
        message = this.stopReason;
        await this.save('last');
      } else {
        await this.save('final');
        await this.exportModel();
      }
    } catch (err) {
      reason = 'error';
      message = err instanceof Error ? err.message : String(err);
      const source = err instanceof RunError ? err.source : 'trainer';
      this.bus.emit('error', { message, source, fatal: true });
    } finally {
      this.optimizer?.dispose();
      this.trainPrefetch?.promise.catch(() => undefined);
      this.trainPrefetch = null;
    }
    const ms = this.cfg.now() - this.t0;
    this.bus.emit('runEnd', { reason, epochsCompleted: this.epochsCompleted, ms, ...(message !== undefined ? { message } : {}) });
    this.bus.complete();
    return {
      ...this.summary,
      reason,
      ...(message !== undefined ? { message } : {}),
      epochsCompleted: this.epochsCompleted,
      iterations: this.globalIteration,
      ms,
    };
  }

  /** The epochs; returns STOP when a stop command ended the run early. */
  private async loop(): Promise<typeof STOP | void> {
    const { epochs, iterationsPerEpoch: iters } = this.cfg;
    for (; this.epoch < epochs; this.epoch++) {
      const epochT0 = this.cfg.now();
      if (this.iteration === 0) {
        this.epochLossSum = 0;
        if (this.lrOverride && !this.lrOverride.persistent) this.lrOverride = null;
      }
      this.setContext();
      if ((await this.takeCommands()) === STOP) return STOP;
      this.bus.emit('epochStart', { lr: this.learningRate(this.iteration) });
      for (; this.iteration < iters; ) {
        const lr = this.learningRate(this.iteration);
        const t = this.cfg.now();
        const loss = await this.trainStep(lr);
        this.epochLossSum += loss;
        this.summary.lastLoss = loss;
        this.setContext(); // batchEnd carries the index of the iteration just done
        this.iteration++;
        this.globalIteration++;
        this.bus.emit('batchEnd', { loss, lr, ms: this.cfg.now() - t });
        // Later events (commands' checkpoints, a stop, an error) report the position reached.
        this.setContext();
        if ((await this.takeCommands()) === STOP) return STOP;
      }
      this.setContext();
      // epochLossSum includes the iterations done before a mid-epoch resume (restored from the checkpoint).
      const trainLoss = this.epochLossSum / iters;
      const epochEnd: TrainingEventMap['epochEnd'] = { trainLoss, lr: this.learningRate(iters - 1), ms: 0 };
      if (this.cfg.val) {
        const v = await this.validate(this.cfg.val);
        this.summary.lastMeanDice = v.meanDice;
        if (!Number.isNaN(v.meanDice)) {
          this.emaDice = this.emaDice === null ? v.meanDice : this.cfg.emaAlpha * this.emaDice + (1 - this.cfg.emaAlpha) * v.meanDice;
        }
        epochEnd.valLoss = v.loss;
        epochEnd.meanDice = v.meanDice;
        if (this.emaDice !== null) epochEnd.emaDice = this.emaDice;
      }
      epochEnd.ms = this.cfg.now() - epochT0;
      epochEnd.memory = memoryNow();
      this.summary.lastTrainLoss = trainLoss;
      this.epochsCompleted = this.epoch + 1;
      this.bus.emit('epochEnd', epochEnd);
      const improved = this.emaDice !== null && (this.bestEmaDice === null || this.emaDice > this.bestEmaDice);
      if (improved) this.bestEmaDice = this.emaDice;
      if (this.emaDice !== null) this.summary.emaDice = this.emaDice;
      if (this.bestEmaDice !== null) this.summary.bestEmaDice = this.bestEmaDice;
      // From here on a checkpoint describes the start of the next epoch.
      this.iteration = 0;
      const isLast = this.epoch + 1 === epochs;
      if (!isLast && (this.epoch + 1) % this.cfg.saveEvery === 0) await this.save('last', { epoch: this.epoch + 1 });
      if (isLast) await this.save('last', { epoch: this.epoch + 1 });
      if (improved) await this.save('best', { epoch: this.epoch + 1 });
    }
  }

  /** One optimisation step on training batch `globalIteration`; returns the loss. */
  private async trainStep(lr: number): Promise<number> {
    const batch = await this.nextTrainBatch();
    const { x, y } = toTensors(batch, this.cfg.train, 'train');
    const optimizer = this.optimizer!;
    let value: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap = {};
    let clip: { coef: tf.Scalar; totalNorm: tf.Scalar } | undefined;
    try {
      const checkpoint = this.cfg.checkpoint;
      const forward = () => (checkpoint ? applyWithCheckpoints(this.model, x, { training: true, segmentOf: checkpoint }) : this.model.apply(x, { training: true }));
      // The freeing walk: same gradients as tf.variableGrads, bit for bit, at a lower peak.
      ({ value, grads } = variableGradsFreeing(() => this.cfg.loss.compute(asList(forward() as tf.Tensor | tf.Tensor[]), [y]), this.variables));
      const ordered = this.variables.map((v) => grads[v.name]);
      const present = ordered.filter((g): g is tf.Tensor => g !== undefined);
      // The clipping coefficient is applied inside the optimizer's step (no scaled copy of the gradients).
      clip = clipCoefficient(present, this.cfg.clipNorm ?? Number.POSITIVE_INFINITY);
      const loss = (await value.data())[0]!;
      const norm = (await clip.totalNorm.data())[0]!;
      if (!Number.isFinite(loss)) {
        throw new RunError(`non-finite training loss (${loss}) at epoch ${this.epoch} iteration ${this.iteration}; the update was not applied and the run stops`, 'trainer');
      }
      if (!Number.isFinite(norm)) {
        throw new RunError(`non-finite gradient norm (${norm}) at epoch ${this.epoch} iteration ${this.iteration} (loss ${loss}); the update was not applied and the run stops`, 'trainer');
      }
      optimizer.step(ordered, lr, this.cfg.clipNorm === null ? undefined : clip.coef);
      return loss;
    } finally {
      const toDispose: tf.Tensor[] = [x, y, ...Object.values(grads)];
      if (value) toDispose.push(value);
      if (clip) toDispose.push(clip.coef, clip.totalNorm);
      tf.dispose(toDispose);
    }
  }

  /** The batch for `globalIteration` (prefetched), and start fetching the one after it. */
  private async nextTrainBatch(): Promise<Batch> {
    const index = this.globalIteration;
    const pending = this.trainPrefetch?.index === index ? this.trainPrefetch.promise : this.fetch(this.cfg.train, index, 'train');
    const total = this.cfg.epochs * this.cfg.iterationsPerEpoch;
    this.trainPrefetch = index + 1 < total ? { index: index + 1, promise: this.fetch(this.cfg.train, index + 1, 'train') } : null;
    // The prefetched promise may reject before it is awaited; that is reported when awaited.
    this.trainPrefetch?.promise.catch(() => undefined);
    return pending;
  }

  private fetch(provider: BatchProvider, index: number, which: string): Promise<Batch> {
    return Promise.resolve()
      .then(() => provider.batch(index))
      .catch((err: unknown) => {
        throw new RunError(`${which} batch ${index}: ${err instanceof Error ? err.message : String(err)}`, 'data');
      });
  }

  /** nnU-Net's online validation over `valIterations` batches; emits validationEnd. */
  private async validate(val: BatchProvider): Promise<{ loss: number; meanDice: number }> {
    const t = this.cfg.now();
    const n = this.cfg.valIterations;
    const acc = this.cfg.criterion.start(this.cfg.targetChannels);
    let lossSum = 0;
    let next = this.fetch(val, this.epoch * n, 'validation');
    for (let j = 0; j < n; j++) {
      const batch = await next;
      if (j + 1 < n) {
        next = this.fetch(val, this.epoch * n + j + 1, 'validation');
        next.catch(() => undefined);
      }
      const { x, y } = toTensors(batch, val, 'validation');
      try {
        const [lossT, counts] = tf.tidy(() => {
          const outputs = asList(this.model.apply(x, { training: false }));
          return [this.cfg.loss.compute(outputs, [y]), acc.batchStatistics(outputs[0]!, y)] as const;
        });
        try {
          lossSum += (await lossT.data())[0]!;
          acc.add(await counts.data());
        } finally {
          tf.dispose([lossT, counts]);
        }
      } finally {
        tf.dispose([x, y]);
      }
    }
    const { dice, meanDice } = acc.result();
    const loss = lossSum / n;
    this.bus.emit('validationEnd', { loss, dice, meanDice, ms: this.cfg.now() - t });
    return { loss, meanDice };
  }

  private learningRate(iteration: number): number {
    if (this.lrOverride) return this.lrOverride.lr;
    return this.cfg.scheduler.learningRate({
      epoch: this.epoch,
      iteration,
      epochs: this.cfg.epochs,
      iterationsPerEpoch: this.cfg.iterationsPerEpoch,
      initialLr: this.cfg.initialLr,
    });
  }

  /** Apply the commands sent since the last call; STOP when one of them is `stop`. */
  private async takeCommands(): Promise<typeof STOP | void> {
    let stop = false;
    let manual = false;
    if (this.commandsFile) {
      const { commands, rejected } = this.commandsFile.poll();
      for (const r of rejected) {
        this.cfg.logger.warn(`voxseg: ignored a command: ${r.message}`);
        this.bus.emit('commandRejected', r);
      }
      for (const c of commands) this.bus.send(c.id === undefined ? c.command : { ...c.command, id: c.id });
    }
    for (const command of this.bus.takeCommands()) {
      if (command.id !== undefined) {
        const { id, ...applied } = command;
        this.bus.emit('commandApplied', { id, command: applied as TrainerCommand });
      }
      if (command.type === 'stop') {
        stop = true;
        this.stopReason ??= command.reason;
      } else if (command.type === 'setLearningRate') {
        this.lrOverride = { lr: command.lr, persistent: command.persistent ?? false };
      } else if (command.type === 'saveCheckpoint') {
        manual = true;
      }
    }
    if (manual) await this.save('manual');
    return stop ? STOP : undefined;
  }

  /**
   * Write checkpoint `kind` describing the current position (or `at.epoch`, iteration 0),
   * then emit checkpointSaved. No-op without `outDir`.
   */
  private async save(kind: CheckpointKind, at?: { epoch: number }): Promise<void> {
    if (!this.cfg.outDir) return;
    const dir = checkpointDir(this.cfg.outDir, kind);
    const state: Omit<TrainerState, 'optimizer' | 'savedAt' | 'format' | 'version'> = {
      runId: this.summary.runId,
      seed: this.cfg.seed,
      epoch: at ? at.epoch : this.epoch,
      iteration: at ? 0 : this.iteration,
      epochsCompleted: this.epochsCompleted,
      globalIteration: this.globalIteration,
      epochs: this.cfg.epochs,
      iterationsPerEpoch: this.cfg.iterationsPerEpoch,
      valIterations: this.cfg.valIterations,
      epochLossSum: at ? 0 : this.epochLossSum,
      scheduler: { name: this.cfg.scheduler.name, initialLr: this.cfg.initialLr, lrOverride: this.lrOverride },
      rng: this.cfg.rng.getState(),
      emaDice: this.emaDice,
      bestEmaDice: this.bestEmaDice,
    };
    // `regions` as in plugin-unet's NetworkMetadata: the names of the output channels, in order.
    const meta = { ...this.cfg.modelMeta, regions: this.cfg.targetChannels, runId: this.summary.runId, checkpoint: kind };
    await writeCheckpoint(dir, this.model, this.optimizer!, state, meta);
    this.summary.checkpoints[kind] = dir;
    this.bus.emit('checkpointSaved', { kind, path: dir });
  }

  /** Copy the final checkpoint to `modelDir` (a failure is the run's error). */
  private async exportModel(): Promise<void> {
    const { outDir, modelDir } = this.cfg;
    if (!outDir || !modelDir) return;
    try {
      await copyDirAtomic(checkpointDir(outDir, 'final'), modelDir);
    } catch (err) {
      throw fsErrorFor(err, modelDir, 'write the final model');
    }
  }

  /** Restore from a checkpoint if asked; returns whether the run was resumed. */
  private async maybeResume(): Promise<boolean> {
    const { resume, outDir } = this.cfg;
    if (resume === false) return false;
    let dir: string;
    if (resume === true) {
      if (!outDir) throw new RunError('resume: true needs outDir (the checkpoint is read from <outDir>/checkpoints/last)', 'trainer');
      dir = checkpointDir(outDir, 'last');
      if (!(await hasCheckpoint(dir))) {
        this.cfg.logger.warn(`voxseg: resume requested but ${dir} holds no checkpoint; starting a new run`);
        return false;
      }
    } else {
      dir = resume;
      if (!(await hasCheckpoint(dir))) throw new RunError(`resume: ${dir} is not a voxseg checkpoint (trainer-state.json and model.json expected)`, 'trainer');
    }
    const state = await restoreCheckpoint(dir, this.model, this.optimizer!);
    if (state.iterationsPerEpoch !== this.cfg.iterationsPerEpoch || (this.cfg.val && state.valIterations !== this.cfg.valIterations)) {
      throw new RunError(
        `resume: ${dir} was written with ${state.iterationsPerEpoch} iterations and ${state.valIterations} validation batches per epoch, the config has ${this.cfg.iterationsPerEpoch} and ${this.cfg.valIterations}; batch indices would not line up`,
        'trainer',
      );
    }
    this.epoch = state.epoch;
    this.iteration = state.iteration;
    this.epochsCompleted = state.epochsCompleted;
    this.globalIteration = state.globalIteration;
    this.epochLossSum = state.epochLossSum;
    this.lrOverride = state.scheduler.lrOverride;
    this.emaDice = state.emaDice;
    this.bestEmaDice = state.bestEmaDice;
    this.cfg.rng.setState(state.rng);
    this.summary.runId = state.runId;
    this.onRunId(state.runId);
    this.bus.setContext({ runId: state.runId });
    return true;
  }

  private setContext(): void {
    this.bus.setContext({ epoch: this.epoch, iteration: this.iteration });
  }
}

function memoryNow(): { tensors: number; bytes: number; rss?: number } {
  const m = tf.memory();
  const rss = typeof process !== 'undefined' && typeof process.memoryUsage === 'function' ? process.memoryUsage().rss : undefined;
  return { tensors: m.numTensors, bytes: m.numBytes, ...(rss !== undefined ? { rss } : {}) };
}

function asList(out: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[]): tf.Tensor[] {
  const list = Array.isArray(out) ? out : [out];
  return list as tf.Tensor[];
}

/** Batch arrays -> image and float 0/1 target tensors, with shape checks that name the batch. */
function toTensors(batch: Batch, provider: BatchProvider, which: string): { x: tf.Tensor5D; y: tf.Tensor5D } {
  const [n, d, h, w, c] = batch.shape;
  const voxels = n * d * h * w;
  if (batch.image.length !== voxels * c) {
    throw new RunError(`${which} batch (cases ${batch.caseIds.join(', ')}): image has ${batch.image.length} values, shape [${batch.shape}] needs ${voxels * c}`, 'data');
  }
  const k = batch.targetChannels;
  if (k !== provider.targetChannels.length || batch.target.length !== voxels * k) {
    throw new RunError(
      `${which} batch (cases ${batch.caseIds.join(', ')}): target has ${batch.target.length} values for ${k} channels; expected ${voxels} voxels x ${provider.targetChannels.length} channels (${provider.targetChannels.join(', ')})`,
      'data',
    );
  }
  const x = tf.tensor5d(batch.image, batch.shape, 'float32');
  const y = tf.tensor5d(Float32Array.from(batch.target), [n, d, h, w, k], 'float32');
  return { x, y };
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`Trainer config: ${name} must be a positive integer, got ${v}`);
  return v;
}

function resolveConfig(c: TrainerConfig): ResolvedTrainerConfig {
  // Duck-typed rather than instanceof: an app may load its own copy of tfjs-layers.
  if (!c || !c.model || typeof c.model.apply !== 'function' || !Array.isArray(c.model.trainableWeights)) throw new TypeError('Trainer config: model must be a tfjs-layers LayersModel');
  if (!c.loss || typeof c.loss.compute !== 'function') throw new TypeError('Trainer config: loss must be a Loss ({ name, compute(outputs, targets) })');
  if (!c.train || typeof c.train.batch !== 'function') throw new TypeError('Trainer config: train must be a BatchProvider ({ batch(index), targetChannels, ... })');
  const seed = c.seed ?? 0;
  const targetChannels = c.targetChannels ?? c.train.targetChannels;
  if (targetChannels.length !== c.train.targetChannels.length) {
    throw new RangeError(`Trainer config: targetChannels has ${targetChannels.length} names (${targetChannels.join(', ')}), the training batches have ${c.train.targetChannels.length} channels`);
  }
  if (c.val && c.val.targetChannels.length !== c.train.targetChannels.length) {
    throw new RangeError(`Trainer config: val has ${c.val.targetChannels.length} target channels, train has ${c.train.targetChannels.length}`);
  }
  const initialLr = c.initialLr ?? 0.01;
  if (!(initialLr > 0) || !Number.isFinite(initialLr)) throw new RangeError(`Trainer config: initialLr must be a positive number, got ${initialLr}`);
  const clipNorm = c.clipNorm === undefined ? 12 : c.clipNorm;
  if (clipNorm !== null && !(clipNorm > 0)) throw new RangeError(`Trainer config: clipNorm must be positive or null, got ${clipNorm}`);
  const emaAlpha = c.emaAlpha ?? 0.9;
  if (!(emaAlpha >= 0 && emaAlpha < 1)) throw new RangeError(`Trainer config: emaAlpha must be in [0, 1), got ${emaAlpha}`);
  const now = c.now ?? Date.now;
  return {
    model: c.model,
    loss: c.loss,
    scheduler: c.scheduler ?? polyScheduler(),
    optimizer: c.optimizer ?? ((variables) => new SGD(variables, { momentum: c.momentum ?? 0.99, nesterov: c.nesterov ?? true, weightDecay: c.weightDecay ?? 3e-5 })),
    criterion: c.criterion ?? pseudoDiceCriterion(),
    train: c.train,
    val: c.val,
    epochs: positiveInt('epochs', c.epochs ?? 1000),
    iterationsPerEpoch: positiveInt('iterationsPerEpoch', c.iterationsPerEpoch ?? 250),
    valIterations: positiveInt('valIterations', c.valIterations ?? 50),
    initialLr,
    momentum: c.momentum ?? 0.99,
    weightDecay: c.weightDecay ?? 3e-5,
    nesterov: c.nesterov ?? true,
    clipNorm,
    emaAlpha,
    outDir: c.outDir,
    modelDir: c.modelDir,
    commandsFile: c.commandsFile,
    checkpoint: c.checkpoint,
    saveEvery: positiveInt('saveEvery', c.saveEvery ?? 1),
    resume: c.resume ?? false,
    seed,
    rng: c.rng ?? new Rng(seed),
    runId: c.runId ?? `run-${new Date(now()).toISOString()}`,
    network: c.network ?? c.model.name,
    backend: c.backend ?? tf.getBackend(),
    plugins: c.plugins ?? [],
    targetChannels: [...targetChannels],
    modelMeta: c.modelMeta ?? {},
    logger: c.logger ?? console,
    now,
  };
}
