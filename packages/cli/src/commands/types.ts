import type { Command } from 'commander';

/**
 * A CLI command module: one file per command in `commands/`, listed in `commands/index.ts`.
 * `register` adds the subcommand and its flags to the program; its action must throw a
 * {@link CliError} (one line, naming the file/argument and the problem) on bad input.
 *
 * Shared helpers for actions: `createLogger()` (`util/logger.ts`, diagnostics on stderr),
 * `createProgress()` (`util/progress.ts`, a bar on a TTY, plain lines otherwise) and
 * `reportTrainingProgress(events$)` (`util/training-progress.ts`). Results go to stdout; a
 * `--json` flag prints exactly one JSON object as the last line of stdout.
 */
export interface CommandModule {
  readonly name: string;
  register(program: Command): void;
}

/** An error for people: printed as one line, exit code 1 (or `exitCode`). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
