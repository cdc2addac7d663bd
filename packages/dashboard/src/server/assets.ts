import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * The folder of an installed package, found the way Node looks packages up (the
 * node_modules folders from here upwards), without resolving an entry point: niivue exports
 * only an `import` condition and no `./package.json`.
 */
export function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = path.join(base, name);
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`@voxseg/dashboard: cannot find the installed package ${name}`);
}

/**
 * Third-party browser libraries, served from node_modules (never from a CDN): URL name ->
 * file. vega, vega-lite and vega-embed as their UMD builds (globals `vega`, `vegaLite`,
 * `vegaEmbed`), niivue as `dist/niivue.umd.js` (global `niivue`).
 */
export function libraryFiles(): Record<string, string> {
  return {
    'vega.min.js': path.join(packageDir('vega'), 'build', 'vega.min.js'),
    'vega-lite.min.js': path.join(packageDir('vega-lite'), 'build', 'vega-lite.min.js'),
    'vega-embed.min.js': path.join(packageDir('vega-embed'), 'build', 'vega-embed.min.js'),
    'niivue.umd.js': path.join(packageDir('@niivue/niivue'), 'dist', 'niivue.umd.js'),
  };
}

/** This package's root (holds `public/` and, once built, `dist/client/`). */
export function dashboardRoot(): string {
  // src/server/assets.ts or dist/server/assets.js -> package root
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The page templates and stylesheet. */
export function publicDir(): string {
  return path.join(dashboardRoot(), 'public');
}

/** The browser bundles esbuild writes (`npm run build`, scripts/bundle-client.mjs). */
export function clientDir(): string {
  return path.join(dashboardRoot(), 'dist', 'client');
}
