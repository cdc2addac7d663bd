#!/usr/bin/env node
import { runCli } from './program.js';

// `voxseg --help | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Exit codes: 0 success; 1 bad input or failure (one-line message on stderr); 2 usage error.
// process.exitCode (not process.exit) so buffered stdout, e.g. a --json line piped to a file,
// is fully flushed before the process ends.
runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`voxseg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
