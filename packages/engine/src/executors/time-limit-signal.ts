/** Something that stops after its current iteration when asked (the Trainer). */
export interface Stoppable {
  stop(reason?: string): void;
}

/** A watch on the time-limit signal, from {@link watchTimeLimitSignal}. */
export interface TimeLimitWatch {
  /** Whether the signal arrived. */
  readonly signalled: boolean;
  /** Stop `target` when the signal arrives, or at once if it already has. */
  attach(target: Stoppable): void;
  /** Remove the signal handler. */
  dispose(): void;
}

/** The stop reason a time-limit signal gives (summary.message, runEnd.message). */
export const TIME_LIMIT_REASON = 'time-limit signal (SIGUSR1)';

/**
 * Watch for SIGUSR1, the signal Slurm sends before a job's time limit when asked
 * (`--signal=B:USR1@<seconds>`; voxseg's task scripts pass it on to the training). On the
 * signal the attached trainer stops after its current iteration and writes its `last`
 * checkpoint; the command then exits with EXIT_TIME_LIMIT (3), and the task is requeued and
 * continues with `--resume`, which reproduces the uninterrupted run exactly.
 *
 * Installed for a whole training command, before the trainer exists: a signal that arrives
 * while data loads is kept and applied when the trainer is attached, and a signal after the
 * training finished is ignored (the remaining evaluation is short). Holding a listener also
 * keeps Node.js from its default SIGUSR1 action (starting the inspector).
 */
export function watchTimeLimitSignal(options: { signal?: NodeJS.Signals; onSignal?: () => void } = {}): TimeLimitWatch {
  const signal = options.signal ?? 'SIGUSR1';
  let signalled = false;
  let target: Stoppable | undefined;
  const handler = () => {
    if (signalled) return;
    signalled = true;
    options.onSignal?.();
    target?.stop(TIME_LIMIT_REASON);
  };
  process.on(signal, handler);
  return {
    get signalled() {
      return signalled;
    },
    attach(t) {
      target = t;
      if (signalled) t.stop(TIME_LIMIT_REASON);
    },
    dispose() {
      process.off(signal, handler);
      target = undefined;
    },
  };
}
