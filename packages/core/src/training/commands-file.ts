import { closeSync, fstatSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDirSync } from '../io/ensure-dir.js';
import { parseTrainerCommand } from '../events/event-bus.js';
import type { TrainerCommand } from '../events/types.js';

/** Name of the commands file inside a run folder: `<outDir>/commands.jsonl`. */
export const COMMANDS_FILE = 'commands.jsonl';

/** The commands file of run folder `runDir`. */
export function commandsFilePath(runDir: string): string {
  return join(runDir, COMMANDS_FILE);
}

/**
 * One line of `commands.jsonl`: a {@link TrainerCommand} with an `id` the sender chose, e.g.
 * `{"id":"c1","type":"setLearningRate","lr":0.001}`. The trainer acknowledges it with a
 * `commandApplied { id, command }` event (or `commandRejected { id, message }`).
 */
export type CommandLine = TrainerCommand & { id: string };

/**
 * Append one command to a run's commands file, from any process (the dashboard, a script, a
 * shell: `echo '{"id":"x","type":"stop"}' >> run/commands.jsonl` does the same). The line is
 * written with one `write(2)` on a file opened `O_APPEND`, so lines from concurrent senders do
 * not interleave. The command is validated first: a malformed one throws a RangeError naming
 * the problem and nothing is written.
 * @returns the line written (with `id`)
 */
export function appendCommand(file: string, command: TrainerCommand, id: string): CommandLine {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) throw new RangeError('command id must be a non-empty string of at most 200 characters');
  const parsed = parseTrainerCommand(command);
  const line: CommandLine = { ...parsed, id };
  ensureDirSync(dirname(file));
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
  } finally {
    closeSync(fd);
  }
  return line;
}

/** What one {@link CommandsFileFollower.poll} found. */
export interface CommandsPoll {
  commands: { id?: string; command: TrainerCommand }[];
  /** Lines that are not a valid command: skipped, reported once each. */
  rejected: { id?: string; message: string }[];
}

/**
 * Follows a commands file for a trainer: {@link poll} returns the complete lines appended since
 * the previous call (by byte offset; a partial last line waits for its newline).
 *
 * Commands written before the follower was created are never replayed: it starts at the file's
 * end (a resumed run does not repeat the `stop` that interrupted it). A file that does not exist
 * yet is picked up when it appears; one that shrank (truncated) is followed from its new end.
 * Reads are synchronous and cheap (one fstat when nothing changed): the trainer polls between
 * iterations.
 */
export class CommandsFileFollower {
  private offset: number;
  private pending = '';

  constructor(readonly path: string) {
    this.offset = sizeOf(path) ?? 0;
  }

  poll(): CommandsPoll {
    const out: CommandsPoll = { commands: [], rejected: [] };
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return out; // not there (yet)
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = size;
        this.pending = '';
        return out;
      }
      if (size === this.offset) return out;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.pending + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const entry = parseCommandLine(line);
        if ('message' in entry) out.rejected.push(entry);
        else out.commands.push(entry);
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}

function parseCommandLine(line: string): { id?: string; command: TrainerCommand } | { id?: string; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { message: `${COMMANDS_FILE}: not JSON: ${clip(line)}` };
  }
  const id = value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : undefined;
  try {
    const command = parseTrainerCommand(value);
    return id === undefined ? { command } : { id, command };
  } catch (err) {
    const message = `${COMMANDS_FILE}: ${(err as Error).message}: ${clip(line)}`;
    return id === undefined ? { message } : { id, message };
  }
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function sizeOf(path: string): number | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
