import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDir } from '@voxseg/core';
import type { ExecutorTask, TaskResult } from '../task.js';
import { arrayScript, exitFilePath, jobLogPath, type SbatchScriptOptions, shellQuote, singleJobScript, taskLogPath } from './sbatch-script.js';
import { isFinished, sbatch, showJob, SlurmError, type SlurmJobRecord } from './slurm-commands.js';

/** One submission: a job array of `tasks`, and optionally a job run after all of them succeeded. */
export interface SlurmPlan extends SbatchScriptOptions {
  tasks: readonly ExecutorTask[];
  /** Run once every task succeeded (`--dependency=afterok:<array>`), e.g. the cv aggregation. */
  after?: ExecutorTask;
  /** Environment of sbatch (the tasks inherit it: sbatch's default `--export=ALL`). */
  env?: NodeJS.ProcessEnv;
}

/** What {@link submitSlurm} returns. */
export interface SlurmSubmission {
  plan: SlurmPlan;
  arrayJobId: string;
  afterJobId?: string;
  /** The script files submitted. */
  scripts: string[];
}

/** A change seen while waiting, for one line of progress. */
export interface SlurmWaitEvent {
  kind: 'running' | 'requeued' | 'finished';
  task: string;
  jobId: string;
  log: string;
  code?: number;
  restarts?: number;
}

const arrayFile = (p: SbatchScriptOptions) => path.join(p.slurmDir, `${p.jobName}.array.sbatch`);
const afterFile = (p: SbatchScriptOptions) => path.join(p.slurmDir, `${p.jobName}.after.sbatch`);
const DEPENDENCY = (arrayJobId: string) => [`--dependency=afterok:${arrayJobId}`, '--kill-on-invalid-dep=yes'];

/** The scripts and the sbatch commands of a plan, as `--dry-run` prints them (nothing is written). */
export function renderSlurmPlan(plan: SlurmPlan): string {
  const parts = [`# ---- ${arrayFile(plan)}`, arrayScript(plan.tasks, plan)];
  if (plan.after) parts.push(`# ---- ${afterFile(plan)}`, singleJobScript(plan.after, plan));
  parts.push(
    '# ---- submit with:',
    `ARRAY=$(sbatch --parsable ${shellQuote(arrayFile(plan))})`,
    ...(plan.after ? [`sbatch --parsable ${DEPENDENCY('$ARRAY').join(' ')} ${shellQuote(afterFile(plan))}`] : []),
  );
  return parts.join('\n') + '\n';
}

/** Write the scripts into `slurmDir` and submit them: the array, then the dependent job. */
export async function submitSlurm(plan: SlurmPlan): Promise<SlurmSubmission> {
  await ensureDir(path.join(plan.slurmDir, 'logs'));
  await ensureDir(path.join(plan.slurmDir, 'status'));
  const scripts = [arrayFile(plan)];
  await writeScript(arrayFile(plan), arrayScript(plan.tasks, plan));
  const arrayJobId = await sbatch(arrayFile(plan), [], plan.env);
  if (!plan.after) return { plan, arrayJobId, scripts };
  await writeScript(afterFile(plan), singleJobScript(plan.after, plan));
  scripts.push(afterFile(plan));
  const afterJobId = await sbatch(afterFile(plan), DEPENDENCY(arrayJobId), plan.env);
  return { plan, arrayJobId, afterJobId, scripts };
}

async function writeScript(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o755 });
  await fs.rename(tmp, file);
}

/** Lines telling people how to follow a submission. */
export function watchHints(sub: SlurmSubmission): string[] {
  const ids = [sub.arrayJobId, ...(sub.afterJobId ? [sub.afterJobId] : [])].join(',');
  return [
    `submitted job array ${sub.arrayJobId} (${sub.plan.tasks.length} task(s))${sub.afterJobId ? ` and job ${sub.afterJobId} after it (${sub.plan.after!.name})` : ''}`,
    `watch: squeue -j ${ids}; logs: ${path.join(sub.plan.slurmDir, 'logs', `${sub.plan.jobName}_${sub.arrayJobId}_<task>.log`)}; cancel: scancel ${ids}`,
  ];
}

/** Options of {@link waitSlurm}. */
export interface SlurmWaitOptions {
  /** Poll interval. Default 2000 ms. */
  pollMs?: number;
  onEvent?: (e: SlurmWaitEvent) => void;
}

/** The outcome of a submission once everything has run. */
export interface SlurmOutcome {
  tasks: TaskResult[];
  /** The dependent job; `code` -1 when Slurm never ran it (a task failed). */
  after?: TaskResult;
}

/**
 * Wait until every task of the array (and the dependent job) has finished, following
 * requeues. A task's status is the exit file it wrote, else the job's exit code as
 * `scontrol show job` reports it (no accounting needed); a job that Slurm forgot without
 * writing its exit file counts as failed (status 1).
 */
export async function waitSlurm(sub: SlurmSubmission, options: SlurmWaitOptions = {}): Promise<SlurmOutcome> {
  const { plan } = sub;
  const pollMs = options.pollMs ?? 2000;
  const emit = options.onEvent ?? (() => undefined);
  const tasks = new Map<number, Tracked>(
    plan.tasks.map((t, i) => [i, { name: t.name, jobId: `${sub.arrayJobId}_${i}`, log: taskLogPath(plan, sub.arrayJobId, i), running: false, restarts: 0 }]),
  );
  const results: TaskResult[] = new Array(plan.tasks.length);
  const after: Tracked | undefined = sub.afterJobId ? { name: plan.after!.name, jobId: sub.afterJobId, log: jobLogPath(plan, sub.afterJobId), running: false, restarts: 0 } : undefined;
  let afterResult: TaskResult | undefined;
  for (;;) {
    if (tasks.size) {
      const records = await showJob(sub.arrayJobId, plan.env);
      const byIndex = new Map<number, SlurmJobRecord>();
      for (const r of records ?? []) if (r.arrayJobId === sub.arrayJobId) for (const i of r.arrayTaskIds) byIndex.set(i, r);
      for (const [i, t] of tasks) {
        const code = await step(t, byIndex.get(i), records === null, plan.slurmDir, emit);
        if (code !== undefined) {
          results[i] = { name: t.name, code, log: t.log, jobId: t.jobId };
          tasks.delete(i);
        }
      }
    }
    if (after && !afterResult) {
      const records = await showJob(after.jobId, plan.env);
      const record = records?.find((r) => r.jobId === after.jobId);
      // A failed task makes the afterok dependency impossible: Slurm cancels the job
      // (--kill-on-invalid-dep=yes), or leaves it pending with DependencyNeverSatisfied.
      const neverRuns = (record?.state === 'CANCELLED' && /Dependency/i.test(record.reason)) || (record?.state === 'PENDING' && record.reason === 'DependencyNeverSatisfied');
      if (neverRuns && tasks.size === 0) {
        afterResult = { name: after.name, code: -1, log: after.log, jobId: after.jobId };
      } else {
        const code = await step(after, record, records === null, plan.slurmDir, emit);
        if (code !== undefined) afterResult = { name: after.name, code, log: after.log, jobId: after.jobId };
      }
    }
    if (tasks.size === 0 && (!after || afterResult)) break;
    await sleep(pollMs);
  }
  return afterResult ? { tasks: results, after: afterResult } : { tasks: results };
}

interface Tracked {
  name: string;
  jobId: string;
  log: string;
  running: boolean;
  restarts: number;
  /** Polls in a row where the controller had no record of it. */
  missing?: number;
}

/** Advance one task's state; returns its exit status once it has finished. */
async function step(t: Tracked, record: SlurmJobRecord | undefined, forgotten: boolean, slurmDir: string, emit: (e: SlurmWaitEvent) => void): Promise<number | undefined> {
  const fromFile = await readExitFile(exitFilePath(slurmDir, t.jobId));
  if (record && record.restarts > t.restarts) {
    t.restarts = record.restarts;
    t.running = false;
    emit({ kind: 'requeued', task: t.name, jobId: t.jobId, log: t.log, restarts: t.restarts });
  }
  if (fromFile !== undefined) return finished(t, fromFile, emit);
  if (!record) {
    // A job Slurm no longer knows (MinJobAge passed) that wrote no exit file: it died hard.
    t.missing = (t.missing ?? 0) + 1;
    if (forgotten || t.missing > 30) {
      throw new SlurmError(`task ${t.name} (job ${t.jobId}) is unknown to the Slurm controller and wrote no exit status (${exitFilePath(slurmDir, t.jobId)}); see its log: ${t.log}`);
    }
    return undefined;
  }
  t.missing = 0;
  if (isFinished(record.state)) {
    // The task may have ended between reading the file and asking the controller.
    const late = await readExitFile(exitFilePath(slurmDir, t.jobId));
    return finished(t, late ?? (record.exitCode || (record.state === 'COMPLETED' ? 0 : 1)), emit);
  }
  if (record.state === 'RUNNING' && !t.running) {
    t.running = true;
    emit({ kind: 'running', task: t.name, jobId: t.jobId, log: t.log, restarts: t.restarts });
  }
  return undefined;
}

function finished(t: Tracked, code: number, emit: (e: SlurmWaitEvent) => void): number {
  emit({ kind: 'finished', task: t.name, jobId: t.jobId, log: t.log, code, restarts: t.restarts });
  return code;
}

async function readExitFile(file: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const code = Number.parseInt(text.trim(), 10);
  return Number.isFinite(code) ? code : undefined;
}
