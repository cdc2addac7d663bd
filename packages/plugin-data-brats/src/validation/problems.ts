/** What a validation check looked at. */
export type ValidationCheck = 'missing' | 'unreadable' | 'dims' | 'affine' | 'finite' | 'labels';

/** One problem found in a dataset: which case and file, what was expected and what was found. */
export interface ValidationProblem {
  /** The case the problem belongs to. */
  caseId: string;
  /** The file concerned (for a missing file: the path it was expected at). */
  file: string;
  /** Which check failed. */
  check: ValidationCheck;
  /** What was expected, in words (`dims 240x240x155 (as t1)`). */
  expected: string;
  /** What was found, in words (`dims 240x240x154`). */
  found: string;
}

/** `case <id>: <file>: expected <...>, found <...>`: the one-line form `voxseg check` prints. */
export function formatProblem(p: ValidationProblem): string {
  return `case ${p.caseId}: ${p.file}: expected ${p.expected}, found ${p.found}`;
}
