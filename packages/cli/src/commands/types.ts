import type { Command } from 'commander';

/**
 * A CLI command module: one file per command in `commands/`, listed in `commands/index.ts`.
 * `register` adds the subcommand and its flags to the program; its action must throw a
 * {@link CliError} (one line, naming the file/argument and the problem) on bad input.
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
