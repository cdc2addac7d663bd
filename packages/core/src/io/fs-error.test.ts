import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFsError, fsErrorFor } from './fs-error.js';

const root = mkdtempSync(join(tmpdir(), 'voxseg-fserr-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('describeFsError', () => {
  it('names the user path, the meaning and what to do, in one line', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeFsError(enospc, '/data/out.json')).toBe('/data/out.json: cannot write: no space left on the device; free some space or choose a folder on another disk (ENOSPC)');
    expect(describeFsError(Object.assign(new Error('x'), { code: 'EROFS' }), '/ro/f', 'create the folder')).toBe('/ro/f: cannot create the folder: the file system is read-only; choose a writable folder (EROFS)');
    expect(describeFsError(new Error('odd\nfailure'), '/p')).toBe('/p: cannot write (odd failure)');
  });

  it('describes real errors: a folder where a file is expected (EISDIR), a path under a file (ENOTDIR)', async () => {
    const err = await writeFile(root, 'x').catch((e: unknown) => e);
    const wrapped = fsErrorFor(err, root);
    expect(wrapped.code).toBe('EISDIR');
    expect(wrapped.message).toBe(`${root}: cannot write: is a folder, a file was expected; give a file path (EISDIR)`);
    const file = join(root, 'f');
    await writeFile(file, 'x');
    const under = await writeFile(join(file, 'g'), 'x').catch((e: unknown) => e);
    expect(fsErrorFor(under, join(file, 'g')).message).toMatch(/a part of the path is a file.*\(ENOTDIR\)$/);
  });
});
