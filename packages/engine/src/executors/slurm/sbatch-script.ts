import path from 'node:path';
import type { ExecutorTask } from '../task.js';
import { EXIT_TIME_LIMIT } from '../task.js';

/** What the job scripts of one submission need. */
export interface SbatchScriptOptions {
  /** Slurm job name (`--job-name`), also the prefix of the script and log files. */
  jobName: string;
  /** The `voxseg` program as argv (absolute paths: tasks run on other machines, in other folders). */
  command: readonly string[];
  /** Folder for the scripts, `logs/` and `status/` (task exit files). Absolute. */
  slurmDir: string;
  /** Extra sbatch options, one per `#SBATCH` line (`--partition=gpu`, `--gres=gpu:1`, `--time=24:00:00`). */
  slurmOpts?: readonly string[];
  /**
   * Seconds before the time limit at which Slurm sends USR1 to the task's shell
   * (`--signal=B:USR1@<s>`, nnU-Net's habit is 600); the shell passes it to voxseg, which saves
   * `last` and exits {@link EXIT_TIME_LIMIT}, and the task requeues itself. 0 leaves it out.
   * Default 600.
   */
  signalSeconds?: number;
  /** Working folder of the tasks (`--chdir`). Default: none (Slurm's: the submission folder). */
  chdir?: string;
}

/** sbatch options that only make sense for the array tasks (the aggregation needs no GPU nor their time). */
const TASK_ONLY = /^--(gres|gpus|gpus-per-[a-z]+|gpu-bind|gpu-freq|cpus-per-gpu|mem-per-gpu|time|time-min|array|signal)(=|$)|^-G/;

/** Quote one word for bash: `'it'\''s'`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=+@%,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The log file of array task `index` of job `arrayJobId` (Slurm's `%A_%a`). */
export function taskLogPath(o: Pick<SbatchScriptOptions, 'slurmDir' | 'jobName'>, arrayJobId: string, index: number): string {
  return path.join(o.slurmDir, 'logs', `${o.jobName}_${arrayJobId}_${index}.log`);
}

/** The log file of the single job `jobId` (Slurm's `%j`). */
export function jobLogPath(o: Pick<SbatchScriptOptions, 'slurmDir' | 'jobName'>, jobId: string): string {
  return path.join(o.slurmDir, 'logs', `${o.jobName}_${jobId}.log`);
}

/** The exit-status file a task writes when it ends (`<slurmDir>/status/<job>.exit`, job as `<array>_<index>` or `<id>`). */
export function exitFilePath(slurmDir: string, jobId: string): string {
  return path.join(slurmDir, 'status', `${jobId}.exit`);
}

function header(o: SbatchScriptOptions, lines: string[], taskOnly: boolean): string[] {
  const user = (o.slurmOpts ?? []).filter((opt) => taskOnly || !TASK_ONLY.test(opt));
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${shellQuote(o.jobName)}`,
    ...lines.map((l) => `#SBATCH ${l}`),
    ...(o.chdir ? [`#SBATCH --chdir=${shellQuote(o.chdir)}`] : []),
    ...user.map((opt) => `#SBATCH ${opt}`),
  ];
}

/** Bash that runs "${ARGS[@]}" with voxseg, passing USR1 on, and leaves its status in CODE. */
const RUN_CHILD = [
  '# Slurm signals this shell only (--signal=B:...): pass USR1 on to voxseg, which saves `last` and stops.',
  `trap 'echo "voxseg: task $TASK: time-limit signal (USR1): saving the checkpoint"; [ -n "\${CHILD:-}" ] && kill -USR1 "$CHILD" 2>/dev/null' USR1`,
  '"${VOXSEG[@]}" "${ARGS[@]}" &',
  'CHILD=$!',
  '# wait returns early when a trapped signal arrives: wait again until voxseg has exited.',
  'while :; do',
  '  wait "$CHILD"; CODE=$?',
  '  kill -0 "$CHILD" 2>/dev/null || break',
  'done',
];

/** Bash that records CODE in the exit file (atomically) and exits with it. */
function finish(statusDir: string): string[] {
  return [
    `mkdir -p ${shellQuote(statusDir)}`,
    `printf '%s\\n' "$CODE" > ${shellQuote(statusDir)}"/$JOB.exit.tmp" && mv -f ${shellQuote(statusDir)}"/$JOB.exit.tmp" ${shellQuote(statusDir)}"/$JOB.exit"`,
    'echo "voxseg: task $TASK (job $JOB) ended with status $CODE at $(date -u +%FT%TZ)"',
    'exit "$CODE"',
  ];
}

/**
 * The job-array script running `tasks`, task `i` as array index `i` (`--array=0-<n-1>`).
 * Each task prints its name, runs `voxseg <args>` (adding `--resume` when its run folder
 * already holds a run, so a requeued or resubmitted task continues), and writes its exit
 * status to `<slurmDir>/status/<array>_<index>.exit` (Slurm keeps no record of finished jobs
 * without accounting). A training stopped by the time-limit signal (status
 * {@link EXIT_TIME_LIMIT}) requeues its own task with `scontrol requeue`.
 */
export function arrayScript(tasks: readonly ExecutorTask[], o: SbatchScriptOptions): string {
  if (tasks.length === 0) throw new RangeError('arrayScript: no tasks');
  const signal = o.signalSeconds ?? 600;
  const statusDir = path.join(o.slurmDir, 'status');
  const lines = [
    ...header(
      o,
      [
        `--array=0-${tasks.length - 1}`,
        `--output=${shellQuote(path.join(o.slurmDir, 'logs', `${o.jobName}_%A_%a.log`))}`,
        '--open-mode=append',
        '--requeue',
        ...(signal > 0 ? [`--signal=B:USR1@${signal}`] : []),
      ],
      true,
    ),
    '#',
    `# Written by voxseg: ${tasks.length} task(s), one per array index:`,
    ...tasks.map((t, i) => `#   ${i}  ${t.name}`),
    `# A training stopped by the time-limit signal exits ${EXIT_TIME_LIMIT} with its \`last\` checkpoint saved;`,
    '# the task then requeues itself and continues with --resume.',
    'set -u',
    `VOXSEG=(${o.command.map(shellQuote).join(' ')})`,
    'JOB="${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-local}}_${SLURM_ARRAY_TASK_ID:-0}"',
    "RESUME_RUN=''",
    'case "${SLURM_ARRAY_TASK_ID:-0}" in',
    ...tasks.map(
      (t, i) =>
        `  ${i}) TASK=${shellQuote(t.name)}; ${t.resumeRun ? `RESUME_RUN=${shellQuote(t.resumeRun)}; ` : ''}ARGS=(${t.args.map(shellQuote).join(' ')}) ;;`,
    ),
    '  *) echo "voxseg: this job array has no task ${SLURM_ARRAY_TASK_ID}" >&2; exit 2 ;;',
    'esac',
    'if [ -n "$RESUME_RUN" ] && [ -f "$RESUME_RUN/config.json" ]; then ARGS+=(--resume); fi',
    'echo "voxseg: task $TASK (job $JOB, restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -u +%FT%TZ)"',
    ...RUN_CHILD,
    `if [ "$CODE" = ${EXIT_TIME_LIMIT} ]; then`,
    '  echo "voxseg: task $TASK stopped at its time limit with its checkpoint saved; requeueing job $JOB"',
    '  # Once requeued, Slurm ends this run of the script itself; the task starts again later.',
    '  if scontrol requeue "$JOB"; then sleep 30; exit 0; fi',
    '  echo "voxseg: task $TASK: scontrol requeue $JOB failed; run the same voxseg command again to continue it" >&2',
    'fi',
    ...finish(statusDir),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The script of one job running one task (the aggregation after an array), with its exit
 * status written to `<slurmDir>/status/<jobid>.exit`. sbatch options that concern the
 * training tasks only (GPUs, time limit, signal) are left out.
 */
export function singleJobScript(task: ExecutorTask, o: SbatchScriptOptions): string {
  const statusDir = path.join(o.slurmDir, 'status');
  const lines = [
    ...header(o, [`--output=${shellQuote(path.join(o.slurmDir, 'logs', `${o.jobName}_%j.log`))}`, '--open-mode=append'], false),
    '#',
    `# Written by voxseg: ${task.name}.`,
    'set -u',
    `VOXSEG=(${o.command.map(shellQuote).join(' ')})`,
    'JOB="${SLURM_JOB_ID:-local}"',
    `TASK=${shellQuote(task.name)}`,
    `ARGS=(${task.args.map(shellQuote).join(' ')})`,
    'echo "voxseg: task $TASK (job $JOB) on $(hostname) at $(date -u +%FT%TZ)"',
    ...RUN_CHILD,
    ...finish(statusDir),
  ];
  return lines.join('\n') + '\n';
}
