import type { SlurmWaitEvent } from './slurm/slurm-executor.js';

/** One line for a change seen while waiting on Slurm. */
export function describeSlurmEvent(e: SlurmWaitEvent): string {
  if (e.kind === 'running') return `task ${e.task} running (job ${e.jobId}${e.restarts ? `, restart ${e.restarts}` : ''}); log: ${e.log}`;
  if (e.kind === 'requeued') return `task ${e.task} (job ${e.jobId}) requeued (restart ${e.restarts}): it continues from its last checkpoint when Slurm starts it again; log: ${e.log}`;
  return `task ${e.task} (job ${e.jobId}) finished with status ${e.code}; log: ${e.log}`;
}
