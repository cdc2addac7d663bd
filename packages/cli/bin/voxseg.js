#!/usr/bin/env node
// The `voxseg` executable. It is committed (not built) so that `npm ci` can link
// node_modules/.bin/voxseg even before `npm run build` has produced dist/: npm skips a bin
// whose target file is missing at install time. It only loads the compiled CLI.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('voxseg: the CLI is not built yet (packages/cli/dist/bin.js is missing); run `npm run build` first\n');
  process.exit(1);
}
await import(entry.href);
