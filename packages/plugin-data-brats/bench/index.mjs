// Runs every benchmark of @voxseg/plugin-data-brats: each bench/<name>.mjs module (other than
// this file and files starting with "_") exports `run({ json })` and returns its figures.
// Uses the built package (dist/): build core and this package first, e.g.
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/plugin-data-brats/tsconfig.build.json
//   node packages/plugin-data-brats/bench/index.mjs [--json] [name...]
// With --json the last line of stdout is one JSON object: { "<name>": <result>, ... }.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function run({ json = false, only = [] } = {}) {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs') && f !== 'index.mjs' && !f.startsWith('_'))
    .map((f) => f.slice(0, -4))
    .filter((n) => only.length === 0 || only.includes(n))
    .sort();
  const results = {};
  for (const name of names) {
    const mod = await import(pathToFileURL(`${dir}${name}.mjs`).href);
    if (typeof mod.run !== 'function') throw new Error(`bench/${name}.mjs: expected an exported run() function`);
    results[name] = await mod.run({ json: false });
  }
  if (json) console.log(JSON.stringify(results));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  await run({ json: args.includes('--json'), only: args.filter((a) => !a.startsWith('--')) });
}
