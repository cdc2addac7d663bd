import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocal } from './local-executor.js';
import { worstExitCode } from './task.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-local-executor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// A task program: records when it ran, waits, exits with the status it is given.
const program = "const [ms, code] = process.argv.slice(1).map(Number); const t0 = Date.now(); setTimeout(() => { console.log(JSON.stringify({ t0, t1: Date.now() })); process.exit(code); }, ms);";
const command = [process.execPath, '-e', program];

describe('runLocal (process pool)', () => {
  it('runs at most `parallel` tasks at once; a failure does not stop the others', async () => {
    const tasks = [
      { name: 'a', args: ['1500', '0'] },
      { name: 'b/fails', args: ['1500', '4'] },
      { name: 'c', args: ['100', '0'] },
      { name: 'd', args: ['10', '0'] },
    ];
    const results = await runLocal(tasks, { command, parallel: 2, logDir: path.join(work, 'logs') });
    expect(results.map((r) => [r.name, r.code])).toEqual([['a', 0], ['b/fails', 4], ['c', 0], ['d', 0]]);
    expect(worstExitCode(results)).toBe(4);
    expect(results[1]!.log).toBe(path.join(work, 'logs', 'b_fails.log'));
    const spans = results.map((r) => JSON.parse(readFileSync(r.log, 'utf8').trim().split('\n').pop()!) as { t0: number; t1: number });
    // Never more than two at once: at each task's start, at most one other is running.
    for (const s of spans) expect(spans.filter((o) => o !== s && o.t0 <= s.t0 && s.t0 < o.t1).length).toBeLessThanOrEqual(1);
    // And two did run together (a and b started before either ended).
    expect(spans[1]!.t0).toBeLessThan(spans[0]!.t1);
    expect(readFileSync(results[0]!.log, 'utf8').split('\n')[0]).toBe('$ voxseg 1500 0');
  });
  it('a program that cannot start is status 127, logged', async () => {
    const [r] = await runLocal([{ name: 'x', args: [] }], { command: [path.join(work, 'no-such-program')], logDir: path.join(work, 'logs') });
    expect(r!.code).toBe(127);
    expect(readFileSync(r!.log, 'utf8')).toMatch(/cannot start .*no-such-program/);
  });
});
