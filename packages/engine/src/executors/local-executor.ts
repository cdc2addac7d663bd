import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { ensureDir } from '@voxseg/core';
import { argsAtStart, taskFileName } from './task-files.js';
import type { ExecutorTask, TaskResult } from './task.js';

/** Options of {@link runLocal}. */
export interface LocalExecutorOptions {
  /** The `voxseg` program as argv, e.g. `[process.execPath, '/…/bin/voxseg.js']`. */
  command: readonly string[];
  /** Tasks running at once. Default 1. */
  parallel?: number;
  /** Folder of the task logs (`<task>.log`, stdout and stderr, appended). */
  logDir: string;
  /** Environment of the tasks. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Called when a task starts, with its log file. */
  onTaskStart?: (task: ExecutorTask, log: string) => void;
  /** Called when a task ends. */
  onTaskEnd?: (result: TaskResult) => void;
}

/**
 * The `local` executor: run tasks as child processes of this machine, at most `parallel` at
 * once, in the order given. A failing task never stops the others; every task runs and its
 * status is returned (in the order of `tasks`). SIGINT and SIGTERM of this process reach the
 * children (same process group), and SIGUSR1 is forwarded, so a time-limit signal makes
 * every running training checkpoint and stop.
 */
export async function runLocal(tasks: readonly ExecutorTask[], options: LocalExecutorOptions): Promise<TaskResult[]> {
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new RangeError(`--parallel: expected a positive integer, got ${parallel}`);
  if (options.command.length === 0) throw new RangeError('runLocal: empty command');
  await ensureDir(options.logDir);
  const results: TaskResult[] = new Array(tasks.length);
  const running = new Set<ReturnType<typeof spawn>>();
  const forwardUsr1 = () => {
    for (const child of running) child.kill('SIGUSR1');
  };
  process.on('SIGUSR1', forwardUsr1);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) {
      const task = tasks[i]!;
      const log = path.join(options.logDir, `${taskFileName(task.name)}.log`);
      options.onTaskStart?.(task, log);
      const code = await runOne(options.command, argsAtStart(task), log, options.env ?? process.env, running);
      results[i] = { name: task.name, code, log };
      options.onTaskEnd?.(results[i]!);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
  } finally {
    process.off('SIGUSR1', forwardUsr1);
  }
  return results;
}

async function runOne(command: readonly string[], args: string[], log: string, env: NodeJS.ProcessEnv, running: Set<ReturnType<typeof spawn>>): Promise<number> {
  const out = createWriteStream(log, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', reject);
  });
  out.write(`$ voxseg ${args.join(' ')}\n`);
  const child = spawn(command[0]!, [...command.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      out.write(`voxseg: cannot start ${command[0]}: ${err.message}\n`);
      resolve(127);
    });
    // A child killed by a signal reports 128 + its number, as a shell does.
    child.once('close', (c, signal) => resolve(c ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
  running.delete(child);
  await new Promise<void>((resolve) => out.end(resolve));
  return code;
}

function signalNumber(signal: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
