export { buildProgram, runCli, type CliIo } from './program.js';
export { CliError, type CommandModule } from './commands/types.js';
export { createLogger, parseLogLevel, type Logger, type LoggerOptions, type LogLevel } from './util/logger.js';
export { createProgress, formatDuration, type Progress, type ProgressMode, type ProgressOptions, type ProgressStream } from './util/progress.js';
export { reportTrainingProgress, type TrainingEventSource, type TrainingProgressOptions } from './util/training-progress.js';
// Orchestration lives in @voxseg/engine; the CLI keeps parsing, printing and drawing.
export { writeRunReport, renderCaseOverlay, renderChart, formatEvaluationTable } from './report/index.js';
