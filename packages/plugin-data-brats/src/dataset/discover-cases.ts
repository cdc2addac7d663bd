import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, describeSystemError, fileError } from '../io/errors.js';
import { type BratsLayout, type BratsLayoutOptions, resolveLayout } from './layout.js';

/** The files of one case folder. */
export interface CaseFiles {
  /** Case id = the folder name. */
  id: string;
  /** The case folder. */
  dir: string;
  /** File of each modality; for a missing modality, the path it was expected at (first extension). */
  images: Record<string, string>;
  /** Modalities whose file is missing. */
  missing: string[];
  /** The segmentation file, when present. */
  seg?: string;
}

/**
 * Find the cases of a BraTS-layout folder: every sub-folder (hidden ones such as the
 * `.voxseg-cache` excluded) is a case whose id is the folder name. Ids are sorted.
 * A case with missing modalities is still listed (with `missing`), so validation can
 * report it.
 *
 * @throws DataError when `root` is missing, not a folder, or holds no case folder
 */
export async function discoverCases(root: string, options: BratsLayoutOptions | BratsLayout = {}): Promise<CaseFiles[]> {
  const layout = resolveLayout(options);
  let entries;
  try {
    if (!(await stat(root)).isDirectory()) throw fileError(root, 'expected a dataset folder, found a file');
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fileError(root, `cannot read the dataset folder (${describeSystemError(err)})`);
  }
  // Symlinked case folders count too (datasets are often linked into place).
  const isFolder = async (e: (typeof entries)[number]) =>
    e.isDirectory() || (e.isSymbolicLink() && (await stat(join(root, e.name)).then((s) => s.isDirectory(), () => false)));
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  const flags = await Promise.all(visible.map(isFolder));
  const ids = visible.filter((_, k) => flags[k]).map((e) => e.name).sort();
  if (ids.length === 0) {
    const want = layout.modalities.map((m) => `<id>${layout.suffixes[m]}${layout.extensions[0]}`).join(', ');
    throw fileError(root, `no case folders found (expected <id>/ sub-folders holding ${want})`);
  }
  return Promise.all(ids.map((id) => caseFiles(root, id, layout)));
}

async function caseFiles(root: string, id: string, layout: BratsLayout): Promise<CaseFiles> {
  const dir = join(root, id);
  const images: Record<string, string> = {};
  const missing: string[] = [];
  for (const m of layout.modalities) {
    const found = await findFile(dir, `${id}${layout.suffixes[m]}`, layout.extensions);
    images[m] = found ?? join(dir, `${id}${layout.suffixes[m]}${layout.extensions[0]}`);
    if (!found) missing.push(m);
  }
  const seg = await findFile(dir, `${id}${layout.segSuffix}`, layout.extensions);
  return seg ? { id, dir, images, missing, seg } : { id, dir, images, missing };
}

async function findFile(dir: string, stem: string, extensions: string[]): Promise<string | undefined> {
  for (const ext of extensions) {
    const p = join(dir, `${stem}${ext}`);
    try {
      await access(p);
      return p;
    } catch {
      // try the next extension
    }
  }
  return undefined;
}
