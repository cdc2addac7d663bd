// The server over real HTTP: token, path refusal, commands, live events (no browser here).
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochLines, writeRun } from '../__tests__/fixtures.js';
import { type DashboardServer, startDashboard } from './dashboard-server.js';

const work = mkdtempSync(path.join(tmpdir(), 'voxseg-dash-server-'));
const runs = path.join(work, 'runs');
const secret = path.join(work, 'secret.json');
let server: DashboardServer;
let base: string;
const warnings: string[] = [];

beforeAll(async () => {
  writeRun(path.join(runs, 'live'), { epochs: 2 });
  writeRun(path.join(runs, 'done'), { epochs: 2, ended: 'completed' });
  writeRun(path.join(runs, 'cv', 'fold_0'), { fold: 0 });
  writeRun(path.join(runs, 'cv', 'fold_1'), { fold: 1 });
  writeFileSync(secret, '{"password":"hunter2"}');
  symlinkSync(work, path.join(runs, 'escape'));
  mkdirSync(path.join(work, 'pred'));
  server = await startDashboard({ runs, pollMs: 50, logger: { info: () => undefined, warn: (m) => warnings.push(m) }, predictions: [{ pred: path.join(work, 'pred') }] });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

const withToken = (p: string, q: Record<string, string> = {}) => `${base}${p}?${new URLSearchParams({ ...q, token: server.token })}`;
const post = (run: string, body: unknown, token = server.token) =>
  fetch(`${base}/api/command?run=${encodeURIComponent(run)}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-voxseg-token': token }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('dashboard server', () => {
  it('binds 127.0.0.1 by default and prints one URL with a 48-hex-digit token', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
    expect(warnings).toEqual([]);
  });

  it('lists runs, folds and the cv group', async () => {
    const data = (await (await fetch(withToken('/api/runs'))).json()) as { runs: { id: string; status: string; group?: string; fold?: number }[]; groups: { id: string; runs: string[] }[] };
    expect(data.runs.map((r) => r.id).sort()).toEqual(['cv/fold_0', 'cv/fold_1', 'done', 'live']);
    expect(data.runs.find((r) => r.id === 'done')?.status).toBe('completed');
    expect(data.runs.find((r) => r.id === 'live')?.status).toBe('running');
    expect(data.groups).toEqual([expect.objectContaining({ id: 'cv', runs: ['cv/fold_0', 'cv/fold_1'] })]);
  });

  it('refuses every page and API call without the right token (403), but serves the libraries', async () => {
    for (const p of ['/', '/run?id=live', '/api/runs', '/api/events?run=live', '/api/run-file?run=live&name=config.json']) {
      expect((await fetch(`${base}${p}`)).status, p).toBe(403);
      expect((await fetch(`${base}${p}${p.includes('?') ? '&' : '?'}token=${'0'.repeat(48)}`)).status, p).toBe(403);
    }
    expect((await post('live', { type: 'stop' }, 'wrong')).status).toBe(403);
    expect((await fetch(`${base}/lib/vega.min.js`)).status).toBe(200);
    expect((await fetch(`${base}/lib/niivue.umd.js`)).headers.get('content-type')).toMatch(/javascript/);
  });

  it('refuses path traversal, absolute paths and links out of --runs (4xx, nothing read)', async () => {
    const cases: [string, Record<string, string>, number][] = [
      ['/api/run-file', { run: '../', name: 'config.json' }, 400],
      ['/api/run-file', { run: 'live/../..', name: 'config.json' }, 400],
      ['/api/run-file', { run: '/etc', name: 'config.json' }, 400],
      ['/api/run-file', { run: 'escape', name: 'secret.json' }, 400], // not a served file name
      ['/api/run-file', { run: 'escape', name: 'config.json' }, 403], // a link leading outside
      ['/api/run-file', { run: 'live', name: '../../secret.json' }, 400],
      ['/api/events', { run: '../..' }, 400],
      ['/api/events', { run: 'escape' }, 403],
      ['/api/events', { run: 'nope' }, 404],
      ['/api/prediction-file', { set: '0', case: '..', kind: 'pred' }, 400],
      ['/api/prediction-file', { set: '0', case: 'x', kind: '../../secret' }, 400],
      ['/api/prediction-file', { set: '9', case: 'x', kind: 'pred' }, 404],
      ['/api/run-model/live/optimizer.bin', {}, 400], // only the network, not the optimizer state
      ['/api/run-model/live/..%2F..%2Fsecret.json', {}, 400],
      ['/api/run-model/..%2F..%2F/model.json', {}, 400],
      ['/api/run-model/escape/model.json', {}, 403],
      ['/api/run-model/live/model.json', {}, 404], // a run without a final model
    ];
    for (const [p, q, code] of cases) {
      const res = await fetch(withToken(p, q));
      const text = await res.text();
      expect(res.status, `${p} ${JSON.stringify(q)}`).toBe(code);
      expect(text).not.toContain('hunter2');
    }
    // Encoded dots in the path itself never reach a file either.
    expect((await fetch(`${base}/static/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('appends a valid command with an id to the run\'s commands.jsonl; malformed ones get 400 and change nothing', async () => {
    const file = path.join(runs, 'live', 'commands.jsonl');
    for (const bad of [{ type: 'explode' }, { type: 'setLearningRate', lr: -1 }, { type: 'setLearningRate', lr: 'fast' }, [1, 2], 'not json', { type: 'stop', reason: 5 }]) {
      const res = await post('live', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(existsSync(file)).toBe(false);
    const ok = await post('live', { type: 'setLearningRate', lr: 0.002, id: 'mine' });
    expect(ok.status).toBe(200);
    const { id } = (await ok.json()) as { id: string };
    expect(id).toMatch(/^c-[0-9a-f]{12}$/);
    // The server chooses the id: a client cannot impersonate another command's acknowledgement.
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ type: 'setLearningRate', lr: 0.002, id })}\n`);
    // A run that has ended takes no commands; a traversal never writes.
    expect((await post('done', { type: 'stop' })).status).toBe(409);
    expect(existsSync(path.join(runs, 'done', 'commands.jsonl'))).toBe(false);
    expect((await post('../', { type: 'stop' })).status).toBe(400);
    expect(existsSync(path.join(work, 'commands.jsonl'))).toBe(false);
  });

  it('streams events.jsonl as server-sent events: the file once, then only appended lines', async () => {
    const ac = new AbortController();
    const res = await fetch(withToken('/api/events', { run: 'cv/fold_1' }), { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (pred: () => boolean) => {
      const t0 = Date.now();
      while (!pred() && Date.now() - t0 < 5000) text += decoder.decode((await reader.read()).value);
    };
    const records = () => [...text.matchAll(/event: events\ndata: (.*)\n/g)].flatMap((m) => (JSON.parse(m[1]!) as { records: { type: string }[] }).records);
    await until(() => records().length >= 1 + 3 * 7);
    expect(text.startsWith('event: reset')).toBe(true);
    expect(records()).toHaveLength(1 + 3 * 7);
    const file = path.join(runs, 'cv', 'fold_1', 'events.jsonl');
    const more = epochLines(3, 1, 4);
    appendFileSync(file, more.slice(0, 40)); // a partial line: held back
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(file, more.slice(40));
    await until(() => records().length >= 1 + 4 * 7);
    expect(records()).toHaveLength(1 + 4 * 7);
    expect(records().at(-1)).toMatchObject({ type: 'epochEnd', epoch: 3 });
    ac.abort();
  });

  it('warns when bound to a non-loopback address', async () => {
    const said: string[] = [];
    const s = await startDashboard({ runs, host: '0.0.0.0', logger: { info: () => undefined, warn: (m) => said.push(m) } });
    await s.close();
    expect(said.join('\n')).toMatch(/listening on 0\.0\.0\.0, reachable from other machines/);
  });
});
