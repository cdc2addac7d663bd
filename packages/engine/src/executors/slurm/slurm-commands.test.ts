import { describe, expect, it } from 'vitest';
import { expandArrayIds, explainSlurmFailure, isFinished, parseScontrolJobs, slurmCommand } from './slurm-commands.js';

// Lines printed by `scontrol show job -o` of Debian's Slurm 22.05 on this project's one-node
// cluster (fields in the middle shortened): a finished task, a failed one, a requeued task
// pending again, the pending rest of an array, and a job killed by a signal.
const OUTPUT = [
  'JobId=2 ArrayJobId=1 ArrayTaskId=0 JobName=a.sh UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=0:0 StdOut=/tmp/a_1_0.out Power=',
  'JobId=3 ArrayJobId=1 ArrayTaskId=1 JobName=a.sh UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=7:0 StdOut=/tmp/a_1_1.out Power=',
  'JobId=5 ArrayJobId=4 ArrayTaskId=0 JobName=r.sh UserId=root(0) JobState=PENDING Reason=BeginTime Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 ExitCode=0:0',
  'JobId=4 ArrayJobId=4 ArrayTaskId=2-3,5%2 JobName=r.sh UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null) Requeue=1 Restarts=0 ExitCode=0:0',
  'JobId=9 JobName=x UserId=root(0) JobState=CANCELLED Reason=None Restarts=0 ExitCode=0:15',
].join('\n');

describe('parseScontrolJobs', () => {
  it('reads state, exit status, restarts and array indices', () => {
    const jobs = parseScontrolJobs(OUTPUT);
    expect(jobs.map((j) => [j.jobId, j.arrayJobId, j.arrayTaskIds, j.state, j.reason, j.exitCode, j.restarts])).toEqual([
      ['2', '1', [0], 'COMPLETED', 'None', 0, 0],
      ['3', '1', [1], 'FAILED', 'NonZeroExitCode', 7, 0],
      ['5', '4', [0], 'PENDING', 'BeginTime', 0, 1],
      ['4', '4', [2, 3, 5], 'PENDING', 'Resources', 0, 0],
      ['9', undefined, [], 'CANCELLED', 'None', 128 + 15, 0],
    ]);
    expect(jobs[0]!.stdout).toBe('/tmp/a_1_0.out');
  });
  it('expands array index expressions', () => {
    expect(expandArrayIds('0-3')).toEqual([0, 1, 2, 3]);
    expect(expandArrayIds('1,4-5')).toEqual([1, 4, 5]);
    expect(expandArrayIds('0-8:4%1')).toEqual([0, 4, 8]);
  });
  it('knows which states are final', () => {
    expect(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].every(isFinished)).toBe(true);
    expect(['PENDING', 'RUNNING', 'REQUEUED', 'COMPLETING'].some(isFinished)).toBe(false);
  });
});

describe('Slurm command errors, one line each', () => {
  it('a missing command names it and the way out', async () => {
    await expect(slurmCommand('sbatch', ['--version'], { PATH: '/nonexistent' })).rejects.toThrow(
      /^sbatch not found on PATH: --executor slurm needs Slurm's client commands \(run voxseg on a login node of the cluster\), or use --executor local$/,
    );
  });
  it('an unreachable controller and an unreadable configuration say what to check', () => {
    expect(explainSlurmFailure('sbatch', { code: 1, stdout: '', stderr: 'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n' })).toBe(
      'sbatch: cannot reach the Slurm controller (sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)); check that the cluster is up (sinfo) and that SLURM_CONF points at its slurm.conf',
    );
    expect(explainSlurmFailure('sbatch', { code: 1, stdout: '', stderr: 'sbatch: error: s_p_parse_file: cannot stat file /x.conf\nsbatch: fatal: Unable to process configuration file\n' })).toMatch(
      /^sbatch: cannot read Slurm's configuration \(sbatch: error: s_p_parse_file: cannot stat file \/x.conf\); set SLURM_CONF/,
    );
    expect(explainSlurmFailure('sbatch', { code: 1, stdout: '', stderr: 'sbatch: error: invalid partition specified: gpu\n' })).toBe('sbatch failed with status 1: sbatch: error: invalid partition specified: gpu');
  });
});
