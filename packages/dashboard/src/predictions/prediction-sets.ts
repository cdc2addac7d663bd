import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PathRefusedError, resolveInside } from '../server/safe-path.js';
import type { PredictionCase } from './prediction-case.js';

/** A predict/evaluate output to show in the viewer. */
export interface PredictionSetOptions {
  /** `voxseg predict --out` folder: one `<caseId>.nii.gz` label map per case. */
  pred: string;
  /** The cases' images (`voxseg predict --input`, BraTS layout `<id>/<id>_{t1,t1ce,t2,flair}.nii.gz`), also searched for ground truth (`<id>/<id>_seg.nii.gz` or `<id>.nii.gz`). */
  images?: string;
  /** `voxseg evaluate --out` JSON (`{ cases: { id: { WT: { dice, hd95 }, ... } } }`). Default `<pred>/evaluation.json` when it exists. */
  evaluation?: string;
}

export type { PredictionCase } from './prediction-case.js';

export const MODALITIES = ['t1', 't1ce', 't2', 'flair'] as const;
const KINDS = new Set<string>(['pred', 'seg', ...MODALITIES]);
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The cases of a prediction set, worst mean Dice first (cases without metrics last, by id). */
export async function listPredictionCases(set: PredictionSetOptions): Promise<{ cases: PredictionCase[]; regions: string[]; mean?: Record<string, { dice: number | null; hd95: number | null }> }> {
  const names = await fs.readdir(set.pred).catch(() => [] as string[]);
  const evaluation = await readEvaluation(set);
  const regions = new Set<string>();
  const cases: PredictionCase[] = [];
  for (const name of names) {
    if (!name.endsWith('.nii.gz') && !name.endsWith('.nii')) continue;
    const id = name.replace(/\.nii(\.gz)?$/, '');
    if (!CASE_ID.test(id)) continue;
    const c: PredictionCase = { id, files: ['pred'] };
    const m = evaluation?.cases?.[id];
    if (m) {
      c.metrics = m;
      const dices = Object.values(m).map((r) => r.dice).filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
      for (const k of Object.keys(m)) regions.add(k);
      if (dices.length) c.meanDice = dices.reduce((a, b) => a + b, 0) / dices.length;
    }
    for (const kind of ['seg', ...MODALITIES]) {
      if (await caseFile(set, id, kind).then(() => true, () => false)) c.files.push(kind);
    }
    cases.push(c);
  }
  cases.sort((a, b) => (a.meanDice ?? Infinity) - (b.meanDice ?? Infinity) || a.id.localeCompare(b.id, 'en', { numeric: true }));
  return { cases, regions: [...regions], ...(evaluation?.mean ? { mean: evaluation.mean } : {}) };
}

/**
 * The file of `kind` (`pred`, `seg`, `t1`, `t1ce`, `t2`, `flair`) for case `id`, inside the
 * set's folders only. Refuses (400) an id or kind that is not one, 403 a link leading out,
 * 404 a missing file.
 */
export async function resolvePredictionFile(set: PredictionSetOptions, id: unknown, kind: unknown): Promise<string> {
  if (typeof id !== 'string' || !CASE_ID.test(id) || id.includes('..')) throw new PathRefusedError('case: not a case id', 400);
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw new PathRefusedError(`kind: one of ${[...KINDS].join(', ')}`, 400);
  return caseFile(set, id, kind);
}

async function caseFile(set: PredictionSetOptions, id: string, kind: string): Promise<string> {
  const candidates: [string, string][] =
    kind === 'pred'
      ? [[set.pred, `${id}.nii.gz`], [set.pred, `${id}.nii`]]
      : set.images
        ? kind === 'seg'
          ? [[set.images, `${id}/${id}_seg.nii.gz`], [set.images, `${id}.nii.gz`], [set.images, `${id}/${id}_seg.nii`]]
          : [[set.images, `${id}/${id}_${kind}.nii.gz`], [set.images, `${id}/${id}_${kind}.nii`]]
        : [];
  for (const [root, rel] of candidates) {
    try {
      return await resolveInside(root, rel, { mustExist: true });
    } catch (err) {
      if (err instanceof PathRefusedError && err.statusCode === 404) continue;
      throw err;
    }
  }
  throw new PathRefusedError(`${kind} of case ${id} not found`, 404);
}

interface EvaluationJson {
  cases?: Record<string, Record<string, { dice: number | null; hd95: number | null }>>;
  mean?: Record<string, { dice: number | null; hd95: number | null }>;
}

async function readEvaluation(set: PredictionSetOptions): Promise<EvaluationJson | undefined> {
  const file = set.evaluation ?? path.join(set.pred, 'evaluation.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as EvaluationJson;
  } catch {
    return undefined;
  }
}
