// Types only (no node: imports): the browser pages import them too.

/** A training run found under the dashboard's `--runs` folder. */
export interface RunInfo {
  /** Path relative to the runs root, `/`-separated (`bl/fold_0`); `.` for the root itself. Identifies the run in URLs. */
  id: string;
  /** The folder name. */
  name: string;
  /** The cv group (`voxseg cv --out`) this run is a fold of, as a run-root-relative id; absent for a lone run. */
  group?: string;
  /** The fold number, from `fold_<k>` folders or the run's config. */
  fold?: number;
  /** Network variant from config.json (`BL`, `BL+L+GN`, ...). */
  variant?: string;
  /** Backend from config.json (`backendSelected`). */
  backend?: string;
  /**
   * `running` when events.jsonl has no runEnd yet and was written in the last
   * `liveWindowMs` (discoverRuns option); `idle` when it has no runEnd but has gone quiet (a
   * crashed or killed process); otherwise the runEnd reason.
   */
  status: 'running' | 'idle' | 'completed' | 'stopped' | 'error' | 'new';
  /** Epochs completed so far and planned (from the last epochEnd / runStart seen in the file's tail). */
  epochsCompleted?: number;
  epochs?: number;
  /** Last modification of events.jsonl (ms since the Unix epoch). */
  updatedAt?: number;
  /** True when the run has metrics.json (the fold's held-out evaluation). */
  hasMetrics: boolean;
  /** True when the run has its final model (`model/model.json`): the in-browser inference page can use it. */
  hasModel?: boolean;
}

/** A `voxseg cv` output folder: `fold_<k>` runs and, once done, the aggregated metrics.json. */
export interface RunGroup {
  id: string;
  name: string;
  runs: string[];
  hasMetrics: boolean;
}

