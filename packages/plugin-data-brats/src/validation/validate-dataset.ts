import { discoverCases, type CaseFiles } from '../dataset/discover-cases.js';
import { type BratsLayoutOptions, resolveLayout } from '../dataset/layout.js';
import { readCaseFiles } from '../dataset/read-case.js';
import { DataError } from '../io/errors.js';
import { type CheckOptions, checkCaseVolumes } from './check-volumes.js';
import { formatProblem, type ValidationProblem } from './problems.js';

/** Result of validating a dataset folder. */
export interface ValidationReport {
  root: string;
  /** Every case id found, sorted. */
  caseIds: string[];
  /** Every problem found, in case order. */
  problems: ValidationProblem[];
  /** Ids of the cases with at least one problem. */
  invalidCaseIds: string[];
}

/** Options of {@link validateDataset}. */
export interface ValidateOptions extends BratsLayoutOptions, CheckOptions {
  /** Called after each case (for progress bars). */
  onProgress?: (done: number, total: number, caseId: string) => void;
  /**
   * Optional fast path: a case for which this resolves true is taken as valid without reading
   * it (the dataset uses it for cases whose preprocessed cache entry is fresh: only valid
   * cases are ever cached).
   */
  knownValid?: (c: CaseFiles) => Promise<boolean>;
}

/** Validate one case: read all its files and run every check. Never throws for bad data. */
export async function validateCase(c: CaseFiles, options: ValidateOptions = {}): Promise<ValidationProblem[]> {
  const layout = resolveLayout(options);
  return checkCaseVolumes(c.id, await readCaseFiles(c, layout), options);
}

/**
 * Validate a BraTS-layout folder in one pass: every modality present and readable, 3-D, same
 * dims and affine (tolerance 1e-3), finite values, segmentation labels in {0, 1, 2, 4}.
 * Reports every problem (it does not stop at the first). Cases are read one at a time.
 *
 * @throws DataError only for the folder itself (missing, empty)
 */
export async function validateDataset(root: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const cases = await discoverCases(root, options);
  return validateCases(root, cases, options);
}

/** {@link validateDataset} over already-discovered cases. */
export async function validateCases(root: string, cases: readonly CaseFiles[], options: ValidateOptions = {}): Promise<ValidationReport> {
  const problems: ValidationProblem[] = [];
  const invalid: string[] = [];
  let done = 0;
  for (const c of cases) {
    const known = options.knownValid ? await options.knownValid(c) : false;
    const found = known ? [] : await validateCase(c, options);
    if (found.length > 0) invalid.push(c.id);
    problems.push(...found);
    options.onProgress?.(++done, cases.length, c.id);
  }
  return { root, caseIds: cases.map((c) => c.id), problems, invalidCaseIds: invalid };
}

/** A case left out of training, with why. */
export interface SkippedCase {
  id: string;
  reasons: string[];
}

/**
 * What training uses: refuse a dataset with invalid cases unless `skipInvalid`, in which
 * case the invalid ones are left out and listed with their reasons.
 *
 * @throws DataError (one line: how many cases are invalid, the first problem, what to do)
 */
export function selectValidCases(report: ValidationReport, options: { skipInvalid?: boolean } = {}): { valid: string[]; skipped: SkippedCase[] } {
  const bad = new Set(report.invalidCaseIds);
  const skipped = report.invalidCaseIds.map((id) => ({
    id,
    reasons: report.problems.filter((p) => p.caseId === id).map(formatProblem),
  }));
  if (bad.size > 0 && !options.skipInvalid) {
    throw new DataError(
      `${bad.size} of ${report.caseIds.length} cases in ${report.root} are invalid (first: ${formatProblem(report.problems[0]!)}); ` +
        `run "voxseg check --data ${report.root}" to list every problem, or skip invalid cases (skipInvalid: true)`,
      report.problems[0]!.file,
      report.problems[0]!.caseId,
    );
  }
  return { valid: report.caseIds.filter((id) => !bad.has(id)), skipped };
}
