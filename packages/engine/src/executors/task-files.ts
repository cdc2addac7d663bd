import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ExecutorTask } from './task.js';

/** A task name as a file name: `BL+L+GN/fold_0` -> `BL+L+GN_fold_0`. */
export function taskFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/^_+|_+$/g, '') || 'task';
}

/** The task's arguments as they run now: `--resume` added when its run folder already holds a run. */
export function argsAtStart(task: ExecutorTask): string[] {
  return task.resumeRun && existsSync(path.join(task.resumeRun, 'config.json')) ? [...task.args, '--resume'] : [...task.args];
}
