import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-plugins-from-npm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

it('a separate project installs only core, unet and losses from packed tarballs and trains', () => {
  // The tarballs are what `npm publish` would upload: they need the built dist/ folders.
  for (const pkg of ['core', 'plugin-unet', 'plugin-losses']) {
    expect(existsSync(path.join(root, 'packages', pkg, 'dist', 'index.js')), `packages/${pkg} is not built (npm test builds first)`).toBe(true);
  }
  const tarballs: Record<string, string> = {};
  for (const pkg of ['core', 'plugin-unet', 'plugin-losses']) {
    const out = npm(['pack', '--silent', '--pack-destination', work, path.join(root, 'packages', pkg)], root).trim().split('\n').pop()!;
    tarballs[`@voxseg/${pkg}`] = `file:${path.join(work, out)}`;
  }
  const project = path.join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'uses-voxseg-from-npm', private: true, type: 'module',
      dependencies: { ...tarballs, '@tensorflow/tfjs-core': '^4.22.0', '@tensorflow/tfjs-layers': '^4.22.0', '@tensorflow/tfjs-backend-cpu': '^4.22.0' },
    }, null, 2),
  );
  copyFileSync(path.join(here, 'project', 'main.mjs'), path.join(project, 'main.mjs'));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);

  // Only the three voxseg packages were installed: no CLI, no data plugin, no native backend.
  expect(readdirSync(path.join(project, 'node_modules', '@voxseg')).sort()).toEqual(['core', 'plugin-losses', 'plugin-unet']);
  const out = execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, ITERATIONS: '12' } });
  const result = JSON.parse(out.trim().split('\n').pop()!) as { reason: string; firstLoss: number; lastLoss: number; plugins: string[] };
  expect(result.reason).toBe('completed');
  expect(result.plugins).toEqual(['@voxseg/core', '@voxseg/plugin-unet', '@voxseg/plugin-losses']);
  expect(result.lastLoss).toBeLessThan(result.firstLoss);
}, 300_000);
