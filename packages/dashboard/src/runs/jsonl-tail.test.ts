import { appendFileSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonlTail } from './jsonl-tail.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-tail-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('JsonlTail', () => {
  it('reads nothing from a missing file, then only appended complete lines', async () => {
    const file = path.join(work, 'a.jsonl');
    const t = new JsonlTail(file);
    expect(await t.read()).toEqual({ records: [], skipped: 0, restarted: false });
    writeFileSync(file, '{"a":1}\n{"a":2}\n{"a":');
    expect((await t.read()).records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(t.position).toBe(Buffer.byteLength('{"a":1}\n{"a":2}\n{"a":'));
    expect((await t.read()).records).toEqual([]);
    appendFileSync(file, '3}\ntorn\n{"a":4}\n');
    expect(await t.read()).toEqual({ records: [{ a: 3 }, { a: 4 }], skipped: 1, restarted: false });
  });

  it('reads a large file in bounded chunks without losing a line split across them', async () => {
    const file = path.join(work, 'b.jsonl');
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 37) }));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const t = new JsonlTail(file, 1000);
    const got = (await t.read()).records as { i: number }[];
    expect(got.map((r) => r.i)).toEqual(lines.map((_, i) => i));
  });

  it('starts over, flagged, when the file is replaced (a --force restart)', async () => {
    const file = path.join(work, 'c.jsonl');
    writeFileSync(file, '{"run":1}\n');
    const t = new JsonlTail(file);
    await t.read();
    writeFileSync(path.join(work, 'c.new'), '{"run":2}\n');
    renameSync(path.join(work, 'c.new'), file);
    expect(await t.read()).toEqual({ records: [{ run: 2 }], skipped: 0, restarted: true });
  });
});
