import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { commands } from './commands/index.js';
import { CliError } from './commands/types.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

/** Build the `voxseg` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('voxseg')
    .description('3D brain-tumour segmentation (BraTS 2021 winning method) on TensorFlow.js')
    .version(version, '-v, --version')
    .showSuggestionAfterError(true)
    .exitOverride();
  for (const c of commands) c.register(program);
  return program;
}

/** Run the CLI; resolves to the process exit code. Errors print as one line. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (help/version exit with code 0).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`voxseg: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
