/**
 * An error about a data file or a case, for people: the message is one line that names the
 * file (and the case, when known), what was expected and what was found. The CLI prints
 * `message` alone; `file` and `caseId` are kept for programs.
 */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    message: string,
    /** The file the problem is about, when there is one. */
    readonly file?: string,
    /** The case the file belongs to, when known. */
    readonly caseId?: string,
  ) {
    super(message);
  }
}

/** `${file}: ${problem}`: the one-line form every data error uses. */
export function fileError(file: string, problem: string, caseId?: string): DataError {
  return new DataError(`${caseId ? `case ${caseId}: ` : ''}${file}: ${problem}`, file, caseId);
}

/** The short reason of a Node error (`ENOENT: no such file or directory`) without the path noise. */
export function describeSystemError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    const e = err as NodeJS.ErrnoException;
    const reasons: Record<string, string> = {
      ENOENT: 'no such file',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EISDIR: 'is a directory, expected a file',
      ENOTDIR: 'a parent of the path is not a directory',
      ENOSPC: 'no space left on the device',
      EROFS: 'read-only file system',
    };
    return `${e.code}: ${reasons[e.code!] ?? e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
