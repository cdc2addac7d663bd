// The memory check before training, through the real `voxseg` binary: a run whose estimated
// peak exceeds the memory (capped here with VOXSEG_MEMORY_LIMIT_MB) is refused in one line
// naming the estimate and the settings that fit, before any case is loaded; the override runs it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-memory-check-'));
const data = path.join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function voxseg(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  expect(voxseg({}, 'synth', '--out', data, '--cases', '3', '--seed', '1', '--shape', '24,24,20').code).toBe(0);
}, 120_000);

describe('the memory check before training', () => {
  it('bench train-step: BL+AA 128^3 batch 2 within 12 GB is refused in one line naming the estimate and what fits (checkpointing both halves among them)', () => {
    const r = voxseg({ VOXSEG_MEMORY_LIMIT_MB: String(12 * 1024) }, 'bench', 'train-step', '--variant', 'BL+AA', '--patch', '128', '--batch', '2', '--backend', 'cpu', '--json');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^voxseg bench train-step: BL\+AA: estimated peak memory \d+\.\d GB \(batch 2, patch 128\) exceeds the 12\.0 GB available \(VOXSEG_MEMORY_LIMIT_MB\); options that fit: --checkpoint-decoder --checkpoint-encoder \(\d+\.\d GB\), --batch 1 \(\d+\.\d GB\), --patch \d+ \(\d+\.\d GB\); --no-memory-check runs it anyway$/,
    );
  }, 120_000);

  it('train: refused before loading the data, with the flags that fit; --no-memory-check starts it', () => {
    const out = path.join(work, 'run');
    const tiny = ['--data', data, '--out', out, '--folds', '3', '--epochs', '1', '--iterations', '1', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '8', '--batch', '2'];
    const refused = voxseg({ VOXSEG_MEMORY_LIMIT_MB: '100' }, 'train', ...tiny);
    expect(refused.code).not.toBe(0);
    const errors = refused.stderr.split('\n').filter((l) => l.includes('estimated peak memory'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/training: BL: estimated peak memory \d+\.\d GB \(batch 2, patch 16\) exceeds the 0\.1 GB available \(VOXSEG_MEMORY_LIMIT_MB\); nothing tried fits .*; --no-memory-check \(training\.memoryCheck: false\) runs it anyway/);
    expect(existsSync(path.join(out, 'checkpoints'))).toBe(false);
    const forced = voxseg({ VOXSEG_MEMORY_LIMIT_MB: '100' }, 'train', ...tiny, '--no-memory-check', '--checkpoint-decoder', '--force');
    expect(forced.stderr).not.toMatch(/voxseg: /);
    expect(forced.code).toBe(0);
  }, 300_000);
});
