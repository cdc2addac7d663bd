import { defineConfig } from 'vitest/config';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Tests import sibling packages by their public names; resolve those to the sources so the
// suite runs without a prior build and always tests the code in the tree.
const pkg = (dir: string) => fileURLToPath(new URL(`./packages/${dir}/src/index.ts`, import.meta.url));

// The U-Net and losses suites must pass on every backend: they run once on `cpu` (with
// everything else) and, when @voxseg/backend-native's addon is built, once more on `native`
// (setTestBackend() in those tests reads VOXSEG_TEST_BACKEND).
const nativeBuilt = existsSync(fileURLToPath(new URL('./packages/backend-native/build/Release/voxseg_native.node', import.meta.url)));
const bothBackends = ['packages/plugin-unet/src/**/*.test.ts', 'packages/plugin-losses/src/**/*.test.ts'];

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@voxseg\/core$/, replacement: pkg('core') },
      { find: /^@voxseg\/plugin-losses$/, replacement: pkg('plugin-losses') },
      { find: /^@voxseg\/plugin-unet$/, replacement: pkg('plugin-unet') },
      { find: /^@voxseg\/plugin-axial-attention$/, replacement: pkg('plugin-axial-attention') },
      { find: /^@voxseg\/plugin-data-brats$/, replacement: pkg('plugin-data-brats') },
      { find: /^@voxseg\/plugin-data-nnunet$/, replacement: pkg('plugin-data-nnunet') },
      { find: /^@voxseg\/backend-native$/, replacement: pkg('backend-native') },
      { find: /^@voxseg\/dashboard$/, replacement: pkg('dashboard') },
      { find: /^@voxseg\/cli$/, replacement: pkg('cli') },
    ],
  },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    // tfjs's cpu backend is single-threaded and the machine has 2 cores: two workers.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    cacheDir: 'node_modules/.vitest-cache',
    // The default report, then one plain `N passed, N failed, N skipped` line for CI.
    reporters: ['default', './scripts/summary-reporter.mjs'],
    projects: [
      // `include` lives in each project: with `extends: true` a root-level include would be
      // concatenated with the project's.
      { extends: true, test: { name: 'cpu', include: ['packages/*/src/**/*.test.ts', 'examples/*/**/*.test.ts'] } },
      ...(nativeBuilt
        ? [{ extends: true, test: { name: 'native', include: bothBackends, env: { VOXSEG_TEST_BACKEND: 'native' } } }]
        : []),
    ],
  },
});
