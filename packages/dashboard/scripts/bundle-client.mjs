// Bundle the browser pages (client/*-page.ts, with the shared code from src/series) into
// dist/client/<page>.js with esbuild. The third-party libraries (vega, niivue) are not bundled:
// the pages load their builds from node_modules through the server's /lib/ route.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// One bundle per page: every client/<page>-page.ts (the pages the server lists in src/server/pages.ts).
const pages = readdirSync(path.join(root, 'client')).filter((f) => f.endsWith('-page.ts')).map((f) => f.slice(0, -'-page.ts'.length));

export async function bundleClient(outdir = path.join(root, 'dist', 'client')) {
  await build({
    entryPoints: Object.fromEntries(pages.map((p) => [p, path.join(root, 'client', `${p}-page.ts`)])),
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    sourcemap: true,
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleClient();
