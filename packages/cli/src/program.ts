import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { commands } from './commands/index.js';
import { CliError } from './commands/types.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/** Where the program writes; tests pass buffers. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/**
 * Commander's error text is multi-line (`error: unknown option '--x'` then `(Did you mean
 * --y?)`); the CLI contract is one line per error, so join the lines and prefix `voxseg:`.
 */
function oneLine(message: string): string {
  const text = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/^error:\s*/, '');
  return `voxseg: ${text}\n`;
}

/** One line, prefixed `voxseg:` unless the message already names the command (`voxseg train: ...`). */
function errorLine(message: string): string {
  const text = message.replace(/\s*\n\s*/g, ' ').trim();
  return /^voxseg\b/.test(text) ? `${text}\n` : `voxseg: ${text}\n`;
}

/**
 * Build the `voxseg` program with every command registered. Settings made here before the
 * commands are added (exit override, output, suggestions) are inherited by every subcommand.
 */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('voxseg')
    .description('3D brain-tumour segmentation (BraTS 2021 winning method) on TensorFlow.js')
    .version(version, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(oneLine(s)),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 bad input or failure (one line on stderr naming the file and the problem), 2 usage error, 3 training stopped at the time-limit signal (SIGUSR1) with its checkpoint saved (continue with --resume).\n' +
        'Environment: VOXSEG_LOG_LEVEL=debug|info|warn|error|silent, VOXSEG_PROGRESS=auto|bar|plain|off.',
    );
  for (const c of commands) c.register(program);
  return program;
}

/**
 * Run the CLI with `argv` as in `process.argv` (node, script, ...args); resolves to the
 * process exit code: 0 success (also for --help and --version), 1 a {@link CliError} or a
 * failure, 2 a usage error (unknown command or flag, missing argument). Errors print as one
 * line on stderr; unexpected exceptions too (with the stack when VOXSEG_LOG_LEVEL=debug).
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  // Without any command, print help and fail: a bare `voxseg` in a script is a mistake.
  if (argv.length <= 2) {
    io.stderr.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (help and version exit with code 0).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      io.stderr.write(errorLine(err.message));
      return err.exitCode;
    }
    io.stderr.write(errorLine(err instanceof Error ? err.message : String(err)));
    if (process.env.VOXSEG_LOG_LEVEL === 'debug' && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
