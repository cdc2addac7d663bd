#!/usr/bin/env node
import { runCli } from './program.js';

// Exit codes: 0 success; 1 bad input or failure (one-line message on stderr); 2 usage error.
runCli(process.argv).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`voxseg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
