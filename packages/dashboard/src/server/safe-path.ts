import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A request named a path the dashboard refuses to touch; `statusCode` is what the client gets. */
export class PathRefusedError extends Error {
  constructor(message: string, readonly statusCode: 400 | 403 | 404) {
    super(message);
  }
}

/**
 * Resolve `relative` (a `/`-separated path from a request) inside `root`, or refuse:
 * - 400 for an absolute path, a `..` segment, a backslash or a NUL byte (never normalised away:
 *   a request that tries to climb out is malformed, not "fixed");
 * - 403 when the resolved file is a symbolic link (or sits below one) pointing outside `root`;
 * - 404 when it does not exist (only with `mustExist`).
 * Returns the absolute path (symbolic links resolved).
 */
export async function resolveInside(root: string, relative: string, options: { mustExist?: boolean } = {}): Promise<string> {
  if (typeof relative !== 'string' || relative.includes('\0') || relative.includes('\\')) throw new PathRefusedError('malformed path', 400);
  if (relative.startsWith('/') || /^[a-zA-Z]:/.test(relative)) throw new PathRefusedError('absolute paths are not accepted', 400);
  const segments = relative.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new PathRefusedError('".." is not accepted in paths', 400);
  const realRoot = await fs.realpath(root);
  const joined = path.join(realRoot, ...segments);
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (options.mustExist) throw new PathRefusedError('not found', 404);
    // A file that does not exist yet (events.jsonl before the run starts): check its nearest existing folder.
    real = joined;
    let probe = path.dirname(joined);
    for (;;) {
      try {
        const realProbe = await fs.realpath(probe);
        if (!isInside(realRoot, realProbe)) throw new PathRefusedError('outside the served folders', 403);
        break;
      } catch (e) {
        if (e instanceof PathRefusedError) throw e;
        probe = path.dirname(probe);
      }
    }
  }
  if (!isInside(realRoot, real)) throw new PathRefusedError('outside the served folders', 403);
  return real;
}

/** True when `child` is `parent` or below it (both absolute, resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
