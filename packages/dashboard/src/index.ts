export { startDashboard, type DashboardOptions, type DashboardServer } from './server/dashboard-server.js';
export { discoverRuns, type RunInfo, type RunGroup, type DiscoverOptions } from './runs/discover-runs.js';
export { JsonlTail, type JsonlChunk } from './runs/jsonl-tail.js';
export { resolveInside, isInside, PathRefusedError } from './server/safe-path.js';
export { createToken, tokenMatches } from './server/token.js';
export { listPredictionCases, resolvePredictionFile, type PredictionSetOptions, type PredictionCase } from './predictions/prediction-sets.js';
export { RunState, smooth, meanStd, foldBand, formatEvent, type EventRecord, type EpochRow, type BatchPoint, type RunMeta } from './series/run-state.js';
