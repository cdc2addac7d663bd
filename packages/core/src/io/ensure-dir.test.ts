import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDir, ensureDirSync } from './ensure-dir.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-ensure-dir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each([
  ['ensureDir', (d: string) => ensureDir(d)],
  ['ensureDirSync', async (d: string) => ensureDirSync(d)],
])('%s', (name, make) => {
  it('creates nested folders and accepts existing ones', async () => {
    const dir = path.join(work, name, 'a', 'b', 'c');
    await make(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    await make(dir);
  });
  it('rejects a file in the way', async () => {
    const file = path.join(work, `${name}-file`);
    writeFileSync(file, 'x');
    await expect(make(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(make(path.join(file, 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
  it.skipIf(!existsSync('/proc/self'))('fails instead of looping where mkdir answers ENOENT under an existing parent (/proc)', async () => {
    await expect(make('/proc/voxseg-cannot-exist/sub')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
