#!/usr/bin/env node
// Install step of @voxseg/backend-native: compile the oneDNN addon with node-gyp.
// It never fails the install: when oneDNN or a compiler is missing, the package still
// installs, `build/status.json` records why, and the backend reports itself unavailable
// (with that reason) so `--backend auto` falls back to pure JS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const statusFile = join(root, 'build', 'status.json');

function writeStatus(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  const tmp = `${statusFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2)}\n`);
  renameSync(tmp, statusFile);
}

function finish(ok, reason) {
  writeStatus({ ok, reason });
  console.log(ok ? '@voxseg/backend-native: oneDNN addon built' : `@voxseg/backend-native: native backend disabled: ${reason}`);
  process.exit(0);
}

if (process.env.VOXSEG_NATIVE_SKIP_BUILD) finish(false, 'build skipped (VOXSEG_NATIVE_SKIP_BUILD is set)');
const headers = ['/usr/include/dnnl.hpp', '/usr/local/include/dnnl.hpp', '/usr/include/oneapi/dnnl/dnnl.hpp'];
if (!headers.some((h) => existsSync(h)) && !process.env.VOXSEG_DNNL_ROOT) {
  finish(false, 'oneDNN headers not found (dnnl.hpp); install them with `apt-get install libdnnl-dev`, then `npm rebuild @voxseg/backend-native`');
}

// node-gyp: the one npm runs us with (npm_config_node_gyp), else a local install, else npx.
const require = createRequire(import.meta.url);
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    gyp = existsSync(npmDir) ? npmDir : undefined;
  }
}
if (!gyp) finish(false, 'node-gyp not found; run `npm rebuild @voxseg/backend-native` from npm');

// Build against the headers installed with this node when present (no download needed).
const args = [gyp, 'rebuild'];
const nodeDir = join(dirname(process.execPath), '..');
if (existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  // The first compiler/linker error says most; gyp's own trailer lines say little.
  const lines = (r.stderr || r.error?.message || '').split('\n').map((l) => l.trim());
  const tail = lines.find((l) => /error|not found|cannot find/i.test(l) && !l.startsWith('gyp ERR!')) ?? lines.filter(Boolean).slice(-1)[0];
  process.stderr.write(r.stderr || '');
  finish(false, `node-gyp rebuild failed (${tail}); fix the toolchain (g++, make, python3, libdnnl-dev) and run \`npm rebuild @voxseg/backend-native\``);
}
finish(true, undefined);
