/**
 * What each operating-system error means for the person who gave the path, and what they can
 * do about it. Node's own messages (`ENOSPC: no space left on device, write`) name neither
 * the file the user chose (often only a temporary file beside it) nor a way out.
 */
const ADVICE: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space or choose a folder on another disk',
  EDQUOT: 'disk quota exceeded; free some space or choose a folder on another disk',
  EROFS: 'the file system is read-only; choose a writable folder',
  EACCES: 'permission denied; choose a folder you can write to or change its permissions',
  EPERM: 'operation not permitted; choose a folder you can write to or change its permissions',
  EISDIR: 'is a folder, a file was expected; give a file path',
  ENOTDIR: 'a part of the path is a file, a folder was expected; check the path',
  ENOTEMPTY: 'a folder is in the way and is not empty; move it or choose another path',
  EEXIST: 'already exists; move it or choose another path',
  ENOENT: 'no such file or folder; check the path',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or close other programs',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
  EBUSY: 'the file or folder is busy; retry when the other program is done',
  EIO: 'input/output error on the device; check the disk',
};

/** The errno code of an error thrown by `node:fs`, or undefined. */
export function fsErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * One line for a failed file-system operation on the user's `path`:
 * `<path>: cannot <action>: <meaning and what to do> (<CODE>)`. Errors without a known code
 * keep their own message.
 *
 * @param err what `node:fs` threw
 * @param path the path the user gave (not a temporary file beside it)
 * @param action what was being done, e.g. `write`, `create the folder`
 */
export function describeFsError(err: unknown, path: string, action = 'write'): string {
  const code = fsErrorCode(err);
  const advice = code ? ADVICE[code] : undefined;
  if (advice) return `${path}: cannot ${action}: ${advice} (${code})`;
  const message = err instanceof Error ? err.message : String(err);
  return `${path}: cannot ${action} (${message.replace(/\s*\n\s*/g, ' ')})`;
}

/**
 * The same error, re-thrown with {@link describeFsError}'s message: its `code` is kept (so
 * callers can still branch on it) and the original is its `cause`.
 */
export function fsErrorFor(err: unknown, path: string, action = 'write'): Error & { code?: string } {
  const code = fsErrorCode(err);
  return Object.assign(new Error(describeFsError(err, path, action), { cause: err }), code ? { code } : {});
}
