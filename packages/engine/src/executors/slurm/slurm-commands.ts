import { spawn } from 'node:child_process';
import { EngineError } from '../../errors.js';

/** A Slurm command failed in a way people must act on; the message is one line. */
export class SlurmError extends EngineError {
  override name = 'SlurmError';
}

/** Output of one Slurm client command. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a Slurm client command (`sbatch`, `scontrol`, `scancel`); a missing program is one clear line. */
export async function slurmCommand(program: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new SlurmError(`${program} not found on PATH: --executor slurm needs Slurm's client commands (run voxseg on a login node of the cluster), or use --executor local`)
          : new SlurmError(`${program}: cannot run (${err.message})`),
      );
    });
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The first meaningful line of a Slurm error output. */
function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? 'no message';
}

/** A Slurm client error as one line that says what to check. */
export function explainSlurmFailure(program: string, out: CommandOutput): string {
  const line = firstLine(out.stderr || out.stdout);
  if (/Unable to process configuration file|cannot stat file|Could not establish a configuration source/i.test(out.stderr)) {
    return `${program}: cannot read Slurm's configuration (${line}); set SLURM_CONF to the cluster's slurm.conf, or run voxseg on a login node`;
  }
  if (/contact slurm controller|Unable to contact|connect failure|Zero Bytes were transmitted/i.test(out.stderr)) {
    return `${program}: cannot reach the Slurm controller (${line}); check that the cluster is up (sinfo) and that SLURM_CONF points at its slurm.conf`;
  }
  return `${program} failed with status ${out.code}: ${line}`;
}

/** `sbatch --parsable [args] script`: the job id. */
export async function sbatch(scriptFile: string, args: readonly string[] = [], env?: NodeJS.ProcessEnv): Promise<string> {
  const out = await slurmCommand('sbatch', ['--parsable', ...args, scriptFile], env);
  if (out.code !== 0) throw new SlurmError(`${explainSlurmFailure('sbatch', out)} (script ${scriptFile})`);
  // --parsable prints "<jobid>" or "<jobid>;<cluster>".
  const id = out.stdout.trim().split('\n').pop()!.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch printed no job id for ${scriptFile} (got: ${firstLine(out.stdout)})`);
  return id;
}

/** One record of `scontrol show job -o`: the fields voxseg uses. */
export interface SlurmJobRecord {
  jobId: string;
  arrayJobId?: string;
  /** Array indices this record stands for (pending tasks share one record: `2-3`, `1,4`). */
  arrayTaskIds: number[];
  state: string;
  reason: string;
  /** Exit status as a shell reports it: the code, or 128 + the signal that killed it. */
  exitCode: number;
  restarts: number;
  stdout?: string;
}

/** Expand `0-3`, `1,5-7`, `2-8:2`, `0-9%2` into indices. */
export function expandArrayIds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** Parse `scontrol show job -o` output (one job per line, `Key=Value` fields). */
export function parseScontrolJobs(text: string): SlurmJobRecord[] {
  const jobs: SlurmJobRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('JobId=')) continue;
    const f: Record<string, string> = {};
    for (const word of line.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0 && !(word.slice(0, eq) in f)) f[word.slice(0, eq)] = word.slice(eq + 1);
    }
    const [code, signal] = (f.ExitCode ?? '0:0').split(':').map(Number);
    jobs.push({
      jobId: f.JobId!,
      ...(f.ArrayJobId ? { arrayJobId: f.ArrayJobId } : {}),
      arrayTaskIds: f.ArrayTaskId ? expandArrayIds(f.ArrayTaskId) : [],
      state: f.JobState ?? 'UNKNOWN',
      reason: f.Reason ?? 'None',
      exitCode: signal ? 128 + signal : (code ?? 0),
      restarts: Number(f.Restarts ?? 0),
      ...(f.StdOut ? { stdout: f.StdOut } : {}),
    });
  }
  return jobs;
}

/** `scontrol show job -o <id>`; `null` when the controller no longer knows the job. */
export async function showJob(jobId: string, env?: NodeJS.ProcessEnv): Promise<SlurmJobRecord[] | null> {
  const out = await slurmCommand('scontrol', ['show', 'job', '-o', jobId], env);
  if (out.code !== 0) {
    if (/Invalid job id/i.test(out.stderr)) return null;
    throw new SlurmError(explainSlurmFailure('scontrol', out));
  }
  return parseScontrolJobs(out.stdout);
}

/** Job states after which a job (or an array task) runs no more. */
const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT']);

/** Whether a job state is final (no requeue pending). */
export function isFinished(state: string): boolean {
  return FINISHED.has(state);
}
