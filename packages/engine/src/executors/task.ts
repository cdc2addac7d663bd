/**
 * What an executor runs: one `voxseg` invocation (a fold of one variant, a part of a
 * prediction, an aggregation), named for people, with its log file.
 *
 * Executors (`local`, `slurm`) differ only in where the invocation runs; every task is the
 * same command a user would type, so a task that fails can be rerun by hand from its log.
 */
export interface ExecutorTask {
  /** A name people recognise in messages: `BL/fold_0`, `part 2/3`. Unique within a submission. */
  name: string;
  /** The `voxseg` arguments (without the program), e.g. `['train', '--data', ...]`. */
  args: string[];
  /**
   * A run folder that, when it holds a `config.json`, is continued: `--resume` is appended
   * when the task (re)starts, so a requeued or resubmitted training continues where it stopped.
   */
  resumeRun?: string;
}

/** How a task ended. */
export interface TaskResult {
  name: string;
  /** Exit status: 0 success; {@link EXIT_TIME_LIMIT} stopped at a time-limit signal; other values failures. */
  code: number;
  /** Where its output went. */
  log: string;
  /** The Slurm job id of the task (`<array>_<index>`), with the slurm executor. */
  jobId?: string;
}

/**
 * Exit status of `voxseg train` stopped by SIGUSR1 (Slurm's `--signal=B:USR1@<s>`, sent
 * before the time limit): the `last` checkpoint was written at the end of the current
 * iteration and `voxseg train --resume` continues exactly. Slurm task scripts requeue the
 * task on this status. (3 is unused by the CLI's other statuses: 0 ok, 1 failure, 2 usage.)
 */
export const EXIT_TIME_LIMIT = 3;

/** The worst status of a set of tasks, as `sbatch --wait` reports an array: the highest. */
export function worstExitCode(results: readonly TaskResult[]): number {
  return results.reduce((worst, r) => Math.max(worst, r.code), 0);
}

/** One line per failed task: its name, status, job id and log. */
export function describeFailure(r: TaskResult): string {
  const job = r.jobId ? ` (job ${r.jobId})` : '';
  const what = r.code === EXIT_TIME_LIMIT ? 'stopped at its time limit and was not requeued (rerun the same command to continue it)' : `failed with exit status ${r.code}`;
  return `task ${r.name}${job} ${what}; log: ${r.log}`;
}
