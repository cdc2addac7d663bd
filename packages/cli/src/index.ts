export { buildProgram, runCli, type CliIo } from './program.js';
export { CliError, type CommandModule } from './commands/types.js';
export { createLogger, parseLogLevel, type Logger, type LoggerOptions, type LogLevel } from './util/logger.js';
export { createProgress, formatDuration, type Progress, type ProgressMode, type ProgressOptions, type ProgressStream } from './util/progress.js';
export { reportTrainingProgress, type TrainingEventSource, type TrainingProgressOptions } from './util/training-progress.js';
// The pipeline the commands run, for composing runs in code (examples/brats-2021-winner).
export { trainRun, type TrainRunResult, type TrainRunOptions } from './pipeline/train-run.js';
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainRunConfig } from './pipeline/train-config.js';
export { predictCase, type PredictCaseOptions, type CasePrediction, type EnsembleMember } from './pipeline/predict-case.js';
export { loadRunModels, type RunModel } from './pipeline/load-runs.js';
export { createCliExperiment } from './pipeline/experiment.js';
export { scoreCase, meanMetrics, formatEvaluationTable, evaluationCsv, type EvaluationResult, type RegionMetrics } from './pipeline/evaluation.js';
export { writeRunReport, renderCaseOverlay, renderChart } from './report/index.js';
// Executors: run voxseg tasks as a local process pool or as Slurm job arrays.
export * from './executors/index.js';
