/** What a validation check looked at. */
export type ValidationCheck = 'missing' | 'unreadable' | 'dims' | 'affine' | 'finite' | 'labels';

/** One problem found in a dataset: which case and file, what was expected and what was found. */
export interface ValidationProblem {
  caseId: string;
  file: string;
  check: ValidationCheck;
  expected: string;
  found: string;
}

/** `case <id>: <file>: expected <...>, found <...>`: the one-line form `voxseg check` prints. */
export function formatProblem(p: ValidationProblem): string {
  return `case ${p.caseId}: ${p.file}: expected ${p.expected}, found ${p.found}`;
}
