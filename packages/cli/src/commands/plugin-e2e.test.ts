// The "every part by name" contract, end to end through the real `voxseg` binary: a plugin
// module written in a temporary folder outside the repository (so it can import nothing from
// voxseg) registers a dataset, an augmenter, a scheduler and a loss; `train`, `cv` and
// `predict` with `--plugin` and `--config` then use every one of them, the augmenter inside the
// batch worker threads too. Tiny sizes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-plugin-e2e-'));
const data = path.join(work, 'data');
const test = path.join(work, 'test');
const pluginFile = path.join(work, 'plugin', 'marker-plugin.mjs');
const marks = path.join(work, 'marks.log');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function voxseg(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const markLines = () => (existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n') : []);

// Every part records what it did in marks.log: "<part> <main|worker> ...".
const PLUGIN = `
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
const MARKS = ${JSON.stringify(marks)};
const mark = (what) => appendFileSync(MARKS, what + ' ' + (isMainThread ? 'main' : 'worker') + '\\n');

export default function markerPlugin() {
  return {
    name: 'marker-plugin',
    version: '3.2.1',
    register(ctx) {
      // A dataset that delegates to brats2021 but is chosen only by name.
      ctx.registerDataset({
        name: 'marked-folder',
        create(options, exp) {
          const inner = exp.get('dataset', 'brats2021').create(options, exp);
          return {
            name: 'marked-folder',
            inChannels: inner.inChannels,
            targets: inner.targets,
            caseIds: () => inner.caseIds(),
            loadCase: (id) => { mark('dataset.loadCase'); return inner.loadCase(id); },
            checkCases: (o) => inner.checkCases(o),
            postprocess: (l, s, o) => inner.postprocess(l, s, o),
            writePrediction: (m, l, out) => { mark('dataset.writePrediction'); return inner.writePrediction(m, l, out); },
          };
        },
      });
      ctx.registerAugmenter({
        name: 'Marker',
        defaults: { scale: 1 },
        create: (o) => ({ name: 'Marker', kind: 'intensity', apply(sample) { mark('augmenter'); for (let i = 0; i < sample.image.length; i++) sample.image[i] *= o.scale; } }),
      });
      // lr = base * (global iteration + 1): easy to recognise in events.jsonl.
      ctx.registerScheduler({
        name: 'staircase',
        create: (o) => ({ name: 'staircase', learningRate: (s) => o.base * (s.epoch * s.iterationsPerEpoch + s.iteration + 1) }),
      });
      ctx.registerLoss({
        name: 'marked-loss',
        create(o, exp) {
          mark('loss.create');
          const f = exp.get('loss', 'deep-supervision');
          return f.create({ ...f.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
        },
      });
    },
  };
}
`;

const config = {
  dataset: { name: 'marked-folder' },
  augmentation: [{ name: 'RandMirror' }, { name: 'Marker', options: { scale: 1 } }],
  network: { name: 'BL', options: { baseFilters: 4, maxFilters: 16 } },
  loss: { name: 'marked-loss' },
  scheduler: { name: 'staircase', options: { base: 0.001 } },
  sampler: { name: 'patch', options: { workers: 1 } },
  training: { epochs: 1, iterations: 3, valIterations: 1, batch: 2, patch: 16, folds: 2 },
};

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  rmSync(path.dirname(pluginFile), { recursive: true, force: true });
  spawnSync('mkdir', ['-p', path.dirname(pluginFile)]);
  writeFileSync(pluginFile, PLUGIN);
  writeFileSync(path.join(work, 'cfg.json'), JSON.stringify(config, null, 2));
  expect(voxseg('synth', '--out', data, '--cases', '4', '--seed', '1', '--shape', '24,24,20').code).toBe(0);
  expect(voxseg('synth', '--out', test, '--cases', '1', '--seed', '2', '--shape', '24,24,20').code).toBe(0);
}, 120_000);

describe('a plugin from outside the repository, by name', () => {
  it('voxseg plugins lists its entries with kind, name, plugin and version', () => {
    const r = voxseg('plugins', '--plugin', './plugin/marker-plugin.mjs', '--json');
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout.trim().split('\n').pop()!) as { entries: { kind: string; name: string; plugin: string; version: string }[] };
    for (const [kind, name] of [['dataset', 'marked-folder'], ['augmenter', 'Marker'], ['scheduler', 'staircase'], ['loss', 'marked-loss']]) {
      expect(list.entries).toContainEqual(expect.objectContaining({ kind, name, plugin: 'marker-plugin', version: '3.2.1' }));
    }
    expect(list.entries).toContainEqual(expect.objectContaining({ kind: 'optimizer', name: 'adamw', plugin: '@voxseg/core' }));
  });

  it('train uses its dataset, augmenter (in the worker threads), scheduler and loss', () => {
    rmSync(marks, { force: true });
    const run = path.join(work, 'run');
    const r = voxseg('train', '--plugin', './plugin/marker-plugin.mjs', '--config', 'cfg.json', '--data', data, '--out', run, '--json');
    expect(r.code, r.stderr).toBe(0);
    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'batchEnd').map((e) => e.lr)).toEqual([0.001, 0.002, 0.003]);
    expect(events[0].plugins).toContainEqual({ name: 'marker-plugin', version: '3.2.1' });
    const saved = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
    expect(saved.dataset.name).toBe('marked-folder');
    expect(saved.loss.name).toBe('marked-loss');
    expect(saved.scheduler).toEqual({ name: 'staircase', options: { base: 0.001 } });
    expect(saved.augmentation.map((a: { name: string }) => a.name)).toEqual(['RandMirror', 'Marker']);
    expect(saved.plugins).toEqual([pluginFile]);
    const lines = markLines();
    expect(lines).toContain('loss.create main');
    expect(lines).toContain('dataset.loadCase main');
    // 3 batches x 2 samples, augmented in the worker thread (prefetch may add a few more).
    expect(lines.filter((l) => l === 'augmenter worker').length).toBeGreaterThanOrEqual(6);
    expect(lines).not.toContain('augmenter main');
  }, 300_000);

  it('cv does the same for every fold', () => {
    rmSync(marks, { force: true });
    const out = path.join(work, 'cv');
    const r = voxseg('cv', '--plugin', './plugin/marker-plugin.mjs', '--config', 'cfg.json', '--data', data, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    for (const k of [0, 1]) {
      const events = readFileSync(path.join(out, `fold_${k}`, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(events.filter((e) => e.type === 'batchEnd').map((e) => e.lr)).toEqual([0.001, 0.002, 0.003]);
      expect(JSON.parse(readFileSync(path.join(out, `fold_${k}`, 'config.json'), 'utf8')).loss.name).toBe('marked-loss');
    }
    expect(markLines().filter((l) => l === 'augmenter worker').length).toBeGreaterThanOrEqual(12);
    expect(existsSync(path.join(out, 'metrics.json'))).toBe(true);
  }, 300_000);

  it('predict reads and writes through its dataset', () => {
    rmSync(marks, { force: true });
    const pred = path.join(work, 'pred');
    const r = voxseg('predict', '--plugin', './plugin/marker-plugin.mjs', '--dataset', 'marked-folder', '--run', path.join(work, 'run'), '--input', test, '--out', pred);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(pred)).toEqual(['BraTS2021_00000.nii.gz']);
    expect(markLines()).toEqual(['dataset.loadCase main', 'dataset.writePrediction main']);
  }, 300_000);

  it('an unknown name is one line listing the registered ones', () => {
    writeFileSync(path.join(work, 'bad.json'), JSON.stringify({ ...config, scheduler: { name: 'stairs' } }));
    const r = voxseg('train', '--plugin', './plugin/marker-plugin.mjs', '--config', 'bad.json', '--data', data, '--out', path.join(work, 'bad-run'));
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('voxseg:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/scheduler: Unknown scheduler "stairs"; registered: poly, staircase, warmup-cosine/);
    const bad = voxseg('train', '--config', 'bad.json', '--data', data, '--out', path.join(work, 'bad-run2'));
    expect(bad.code).toBe(1);
  }, 120_000);

  it('a bad config key is one line naming the key path', () => {
    writeFileSync(path.join(work, 'bad2.json'), JSON.stringify({ training: { epochs: 0 } }));
    const r = voxseg('train', '--config', 'bad2.json', '--data', data, '--out', path.join(work, 'bad-run3'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('voxseg: --config bad2.json: training.epochs: expected a positive integer, got 0');
  });
});
