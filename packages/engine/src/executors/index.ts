export { EXIT_TIME_LIMIT, describeFailure, worstExitCode, type ExecutorTask, type TaskResult } from './task.js';
export { argsAtStart, taskFileName } from './task-files.js';
export { shardCases } from './shard-cases.js';
export { runLocal, type LocalExecutorOptions } from './local-executor.js';
export { watchTimeLimitSignal, TIME_LIMIT_REASON, type TimeLimitWatch, type Stoppable } from './time-limit-signal.js';
export { arrayScript, singleJobScript, shellQuote, taskLogPath, jobLogPath, exitFilePath, type SbatchScriptOptions } from './slurm/sbatch-script.js';
export { sbatch, showJob, parseScontrolJobs, expandArrayIds, isFinished, slurmCommand, explainSlurmFailure, SlurmError, type SlurmJobRecord, type CommandOutput } from './slurm/slurm-commands.js';
export { submitSlurm, waitSlurm, renderSlurmPlan, watchHints, type SlurmPlan, type SlurmSubmission, type SlurmWaitEvent, type SlurmWaitOptions, type SlurmOutcome } from './slurm/slurm-executor.js';
export { describeSlurmEvent } from './report-outcome.js';
