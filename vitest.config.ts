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

// @voxseg/backend-webgpu's suites run in their own project. Without a GPU they run on
// Chromium's SwiftShader (a Vulkan driver on the CPU; `.ci/run` installs Debian's chromium):
// Dawn loads libvulkan.so.1 when the process starts, so the variables must be in the worker's
// environment from the start, which a project's `env` gives. A machine whose own Vulkan
// driver is set up (VK_ICD_FILENAMES already set, or no SwiftShader) keeps its environment;
// without any adapter the suites skip, saying why.
const swiftshaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const webgpuEnv: Record<string, string> =
  existsSync(swiftshaderIcd) && !process.env.VK_ICD_FILENAMES
    ? {
        LD_LIBRARY_PATH: [process.env.LD_LIBRARY_PATH, '/usr/lib/chromium'].filter(Boolean).join(':'),
        VK_ICD_FILENAMES: swiftshaderIcd,
      }
    : {};
// The CLI's end-to-end run on `--backend webgpu` needs the same environment (its child
// processes inherit it).
const webgpuSuites = ['packages/backend-webgpu/src/**/*.test.ts', 'packages/cli/src/commands/webgpu-e2e.test.ts'];

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
      { find: /^@voxseg\/engine$/, replacement: pkg('engine') },
      { find: /^@voxseg\/backend-webgpu$/, replacement: pkg('backend-webgpu') },
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
      {
        extends: true,
        test: {
          name: 'cpu',
          include: ['packages/*/src/**/*.test.ts', 'examples/*/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', ...webgpuSuites],
        },
      },
      { extends: true, test: { name: 'webgpu', include: webgpuSuites, env: webgpuEnv } },
      ...(nativeBuilt
        ? [{ extends: true, test: { name: 'native', include: bothBackends, env: { VOXSEG_TEST_BACKEND: 'native' } } }]
        : []),
    ],
  },
});
