import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunGroup, RunInfo } from './run-info.js';

export type { RunGroup, RunInfo } from './run-info.js';

export interface DiscoverOptions {
  /** How deep below the root runs are looked for. Default 4. */
  maxDepth?: number;
  /** A run without runEnd whose events.jsonl changed within this many ms counts as running. Default 120000. */
  liveWindowMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

// Folders inside a run that never hold runs themselves.
const RUN_INTERNALS = new Set(['checkpoints', 'model', 'plots', 'node_modules', 'report']);

/**
 * Find every run under `root`: a folder holding `events.jsonl` or `config.json` (what
 * `voxseg train` writes). Folders whose runs are named `fold_<k>` form a cv group. Only the
 * tail of each events.jsonl is read (its last 64 KiB), so listing stays cheap for long runs.
 */
export async function discoverRuns(root: string, options: DiscoverOptions = {}): Promise<{ runs: RunInfo[]; groups: RunGroup[] }> {
  const maxDepth = options.maxDepth ?? 4;
  const runs: RunInfo[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (names.has('events.jsonl') || names.has('config.json')) {
      runs.push(await describeRun(root, dir, options));
      return;
    }
    if (depth >= maxDepth) return;
    const subdirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !RUN_INTERNALS.has(e.name)).map((e) => e.name).sort(naturalCompare);
    for (const name of subdirs) await walk(path.join(dir, name), depth + 1);
  };
  await walk(root, 0);

  const groups = new Map<string, RunGroup>();
  for (const run of runs) {
    const m = /^fold_(\d+)$/.exec(run.name);
    if (!m || run.id === '.') continue;
    const groupId = posixDirname(run.id);
    run.fold ??= Number(m[1]);
    run.group = groupId;
    let g = groups.get(groupId);
    if (!g) {
      const hasMetrics = await exists(path.join(root, groupId, 'metrics.json'));
      g = { id: groupId, name: groupId === '.' ? path.basename(path.resolve(root)) : path.posix.basename(groupId), runs: [], hasMetrics };
      groups.set(groupId, g);
    }
    g.runs.push(run.id);
  }
  return { runs, groups: [...groups.values()] };
}

async function describeRun(root: string, dir: string, options: DiscoverOptions): Promise<RunInfo> {
  const rel = path.relative(root, dir).split(path.sep).join('/') || '.';
  const info: RunInfo = { id: rel, name: path.basename(path.resolve(dir)), status: 'new', hasMetrics: await exists(path.join(dir, 'metrics.json')) };
  if (await exists(path.join(dir, 'model', 'model.json'))) info.hasModel = true;
  try {
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    if (typeof config.variant === 'string') info.variant = config.variant;
    if (typeof config.backendSelected === 'string') info.backend = config.backendSelected;
    if (typeof config.fold === 'number') info.fold = config.fold;
  } catch {
    // no or unreadable config.json: the events still describe the run
  }
  const file = path.join(dir, 'events.jsonl');
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) return info;
  info.updatedAt = stat.mtimeMs;
  let status: RunInfo['status'] | undefined;
  for (const e of await tailRecords(file, stat.size, 64 << 10)) {
    if (e.type === 'runStart') {
      if (typeof e.epochs === 'number') info.epochs = e.epochs;
      status = undefined;
    } else if (e.type === 'epochEnd' && typeof e.epoch === 'number') {
      info.epochsCompleted = e.epoch + 1;
    } else if (e.type === 'runEnd') {
      status = e.reason as RunInfo['status'];
      if (typeof e.epochsCompleted === 'number') info.epochsCompleted = e.epochsCompleted;
    }
  }
  const now = (options.now ?? Date.now)();
  info.status = status ?? (stat.size === 0 || now - stat.mtimeMs < (options.liveWindowMs ?? 120_000) ? 'running' : 'idle');
  return info;
}

/** The parsed complete lines of the last `bytes` of a file (the first, possibly cut, line is dropped). */
async function tailRecords(file: string, size: number, bytes: number): Promise<Record<string, unknown>[]> {
  const start = Math.max(0, size - bytes);
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift();
    const out: Record<string, unknown>[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // torn line
      }
    }
    return out;
  } finally {
    await handle.close();
  }
}

function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}

function posixDirname(id: string): string {
  const d = path.posix.dirname(id);
  return d === '' ? '.' : d;
}

/** `fold_2` before `fold_10`. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
