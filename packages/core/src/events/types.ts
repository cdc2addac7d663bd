/**
 * The training event stream's vocabulary. Events are facts: plain JSON-serialisable data,
 * never tensors, named subject-then-phase (`epochStart`, `batchEnd`). Every event carries
 * the run id, the 0-based epoch and iteration at which it happened and a timestamp
 * (ms since the Unix epoch).
 *
 * Which events fire (the trainer's TSDoc has the full table, with the iteration field of each):
 * - normal end: runStart, then per epoch: epochStart, batchEnd x iterations, validationEnd
 *   (when there is validation data), epochEnd, checkpointSaved (with an output folder: `last`
 *   every `saveEvery` epochs and after the last epoch, `best` when the EMA pseudo-Dice
 *   improved); at the end checkpointSaved (final), runEnd { reason: 'completed' }.
 *   A `saveCheckpoint` command adds checkpointSaved (manual) after the next batchEnd.
 * - stop command: the current iteration finishes, then checkpointSaved (last, with an output
 *   folder), runEnd { reason: 'stopped' }; no further epochStart / batchEnd.
 * - error (NaN/Inf loss, data error, exception in a step): error { fatal: true }, then runEnd
 *   { reason: 'error' }; no checkpoint is written, so the last good one is left untouched.
 * - an exception thrown by a subscriber (also one subscribed through `.pipe(...)`): it is
 *   logged and reported as error { source: 'subscriber', fatal: false }, delivered after the
 *   event that caused it has reached every subscriber; the run goes on unchanged.
 * - the stream completes after runEnd.
 */
export interface EventBase {
  /** Identifies the run (stable across --resume). */
  runId: string;
  /** 0-based epoch. */
  epoch: number;
  /** 0-based iteration within the epoch (for epoch-level events: the number done so far). */
  iteration: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
}

export interface TrainingEventMap {
  runStart: {
    /** Total epochs and iterations per epoch of the run. */
    epochs: number;
    iterationsPerEpoch: number;
    /** Backend tfjs runs on (`native`, `cpu`, `tensorflow`, ...). */
    backend: string;
    /** Network preset or builder name. */
    network: string;
    /** Trainable parameters. */
    parameters: number;
    seed: number;
    /** Epoch training starts at (> 0 when resumed). */
    startEpoch: number;
    resumed: boolean;
    /** Registered plugins. */
    plugins: { name: string; version: string }[];
  };
  epochStart: { lr: number };
  batchEnd: { loss: number; lr: number; ms: number };
  validationEnd: {
    /** Mean validation loss over the validation batches. */
    loss: number;
    /** Per-region pseudo-Dice (nnU-Net's online evaluation: tp/fp/fn summed over batches), by region name. */
    dice: Record<string, number>;
    /** Mean of `dice` over regions. */
    meanDice: number;
    ms: number;
  };
  epochEnd: {
    /** Mean training loss of the epoch. */
    trainLoss: number;
    /** Validation loss and mean pseudo-Dice of the epoch, when validation ran. */
    valLoss?: number;
    meanDice?: number;
    /** Exponential moving average of meanDice (nnU-Net's criterion for the best checkpoint). */
    emaDice?: number;
    lr: number;
    ms: number;
    /**
     * Memory at the end of the epoch: tfjs tensors alive and their bytes (`tf.memory()`), and
     * the process's resident set size where the runtime has one (Node).
     */
    memory?: { tensors: number; bytes: number; rss?: number };
  };
  checkpointSaved: { kind: 'last' | 'best' | 'final' | 'manual'; path: string };
  runEnd: {
    reason: 'completed' | 'stopped' | 'error';
    /** Epochs fully completed when the run ended. */
    epochsCompleted: number;
    ms: number;
    message?: string;
  };
  /**
   * A command that carried an `id` took effect (between iterations). `command` is the command
   * as applied (without the id).
   */
  commandApplied: { id: string; command: TrainerCommand };
  /**
   * A line of the run's `commands.jsonl` was not a valid command (not JSON, unknown type, a bad
   * learning rate): it was ignored. `id` when the line had one.
   */
  commandRejected: { id?: string; message: string };
  error: {
    message: string;
    /** Where it came from: the training loop, the data pipeline, or an event subscriber. */
    source: 'trainer' | 'data' | 'subscriber';
    /** true when it ended the run. */
    fatal: boolean;
  };
}

export type TrainingEventType = keyof TrainingEventMap;

/** A training event of type K: its payload plus the common fields and `type`. */
export type TrainingEvent<K extends TrainingEventType = TrainingEventType> = {
  [P in K]: { type: P } & EventBase & TrainingEventMap[P];
}[K];

/**
 * Commands flow back to the trainer (control is never done by mutating the trainer):
 * - `stop`: finish the current iteration, save `last`, end with runEnd { reason: 'stopped' }.
 * - `setLearningRate`: use `lr` from the next iteration on (overrides the scheduler until
 *   the next epoch start unless `persistent`).
 * - `saveCheckpoint`: write a `manual` checkpoint after the current iteration.
 *
 * A command may carry an `id` chosen by the sender; the trainer acknowledges such a command with
 * a `commandApplied { id, command }` event when it takes effect. Commands also arrive from other
 * processes through the run folder's `commands.jsonl` (see `CommandsFileFollower`).
 */
export type TrainerCommand = (
  | { type: 'stop'; reason?: string }
  | { type: 'setLearningRate'; lr: number; persistent?: boolean }
  | { type: 'saveCheckpoint' }
) & {
  /** Sender-chosen id, echoed by the `commandApplied` / `commandRejected` event. */
  id?: string;
};
