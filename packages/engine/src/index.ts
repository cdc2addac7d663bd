// @voxseg/engine: orchestration as a library. See README.md for why this is its own package.
export { EngineError } from './errors.js';
export { type EngineHost, type EngineLogger, type ProgressFactory, type ProgressHandle, noProgress, silentLogger } from './host.js';
export * from './config/experiment-config.js';
export { type ConfigLayer, parseConfigLayer, resolveExperimentConfig } from './config/validate-config.js';
export { isLegacyConfig, legacyConfigToLayer, type LegacyRunConfig } from './config/legacy-config.js';
export { readRunConfig } from './config/run-config.js';
export { builtinPlugins, createEngineExperiment, createEngineExperimentFrom, loadPluginModules } from './plugins/builtin-plugins.js';
export { datasetFactoryFor, openDataset } from './run/open-dataset.js';
export { assertWritable, prepareRunFolder } from './run/run-folder.js';
export { trainRun, type TrainRunOptions, type TrainRunResult } from './run/train-run.js';
export { crossValidate, type CrossValidateOptions } from './run/cross-validate.js';
export { predictCase, type CasePrediction, type EnsembleMember, type PredictCaseOptions } from './predict/predict-case.js';
export { loadRunModels, type RunModel } from './predict/load-runs.js';
export { predictFolder, type PredictFolderOptions } from './predict/predict-folder.js';
export { createMetrics, evaluationCsv, type EvaluationResult, meanMetrics, type RegionMetrics, scoreCase } from './evaluate/evaluation.js';
export { evaluateCasesInMemory } from './evaluate/validate-fold.js';
export { evaluateFolder, type EvaluateFolderOptions } from './evaluate/evaluate-folder.js';
export * from './executors/index.js';
