import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './program.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  const code = await runCli(['node', 'voxseg', ...args], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('runCli', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const name of ['synth', 'check', 'train', 'predict', 'evaluate', 'model-summary', 'bench', 'dashboard']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    }
    expect(r.stderr).toBe('');
  });

  it('--version and -v print the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await run(flag);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });

  it('an unknown flag or command is one line on stderr and exit code 2', async () => {
    for (const args of [['--no-such-flag'], ['no-such-command'], ['tran']]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^voxseg: unknown (option|command) '/);
    }
    expect((await run('tran')).stderr).toContain('Did you mean train?');
  });

  it('no arguments prints help to stderr and fails', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: voxseg');
  });
});

// The real executable, as `npx voxseg` runs it: the committed bin shim loading dist/.
const shim = fileURLToPath(new URL(`../${pkg.bin.voxseg}`, import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));
describe.skipIf(!built)('bin/voxseg.js (needs `npm run build`; skipped when packages/cli/dist is missing)', () => {
  it('is executable and answers --version, --help and a bad flag', () => {
    expect(readFileSync(shim, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const version = spawnSync(shim, ['--version'], { encoding: 'utf8' });
    expect(version.error).toBeUndefined();
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${pkg.version}\n`);
    const help = spawnSync(shim, ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('model-summary');
    const bad = spawnSync(shim, ['--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("voxseg: unknown option '--bogus'\n");
  });
});
