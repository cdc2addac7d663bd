import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { appendCommand, commandsFilePath, parseTrainerCommand } from '@voxseg/core';
import { discoverRuns } from '../runs/discover-runs.js';
import { JsonlTail } from '../runs/jsonl-tail.js';
import { listPredictionCases, type PredictionSetOptions, resolvePredictionFile } from '../predictions/prediction-sets.js';
import { clientDir, libraryFiles, publicDir } from './assets.js';
import { PAGES, readPageTemplate, renderPage } from './pages.js';
import { PathRefusedError, resolveInside } from './safe-path.js';
import { createToken, tokenMatches } from './token.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** Folder searched for runs (`voxseg train --out`, `voxseg cv --out` folders, at any depth up to 4). */
  runs: string;
  /** Address to listen on. Default `127.0.0.1`; anything not loopback logs a warning. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Access token. Default: a fresh random one (printed in the URL). */
  token?: string;
  /** Prediction folders to serve in the viewer. */
  predictions?: PredictionSetOptions[];
  /** How often live event files are polled for new lines, ms. Default 250. */
  pollMs?: number;
  /** Receives the URL line and warnings. Default `console`. */
  logger?: { info(message: string): void; warn(message: string): void };
}

/** A running dashboard. */
export interface DashboardServer {
  /** The URL to open, with the token (`http://127.0.0.1:PORT/?token=...`). */
  readonly url: string;
  readonly token: string;
  readonly host: string;
  readonly port: number;
  /** Stop listening and end every live stream. */
  close(): Promise<void>;
}

/**
 * Start the dashboard's HTTP server (fastify): pages, the browser libraries from node_modules,
 * the JSON API, live event streams (server-sent events that tail each run's events.jsonl by
 * byte offset) and the command endpoint that appends to a run's commands.jsonl.
 *
 * Security: every page and API request must carry the token (`?token=` or the
 * `x-voxseg-token` header; 403 otherwise); only the browser libraries and the static page
 * code, which hold no data, are served without it. Files are served only from under `runs`
 * and the prediction folders given; a path with `..`, an absolute path or a symbolic link
 * leading outside gets 400/403 and nothing is read. A malformed command gets 400 and nothing
 * is written.
 */
export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const logger = options.logger ?? console;
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? createToken();
  const runsRoot = path.resolve(options.runs);
  const stat = await fs.stat(runsRoot).catch(() => null);
  if (!stat?.isDirectory()) throw new Error(`--runs ${options.runs}: not a folder`);
  const predictionSets = (options.predictions ?? []).map((p) => ({
    pred: path.resolve(p.pred),
    ...(p.images ? { images: path.resolve(p.images) } : {}),
    ...(p.evaluation ? { evaluation: path.resolve(p.evaluation) } : {}),
  }));
  const pollMs = options.pollMs ?? 250;
  if (!isLoopback(host)) {
    logger.warn(`voxseg dashboard: listening on ${host}, reachable from other machines; anyone with the URL (token) can read the runs and stop trainings`);
  }

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  const live = new Set<() => void>();
  const libs = libraryFiles();

  app.addHook('onRequest', async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (url.startsWith('/lib/') || url.startsWith('/static/') || url === '/favicon.ico') return;
    const q = req.query as Record<string, unknown> | undefined;
    const given = (req.headers['x-voxseg-token'] as string | undefined) ?? (q?.token as string | undefined);
    if (!tokenMatches(token, given)) {
      await reply.code(403).type('text/plain').send('voxseg dashboard: missing or wrong token; open the URL printed by `voxseg dashboard` (it ends in ?token=...)\n');
    }
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    const code = err instanceof PathRefusedError ? err.statusCode : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (code === 500) logger.warn(`voxseg dashboard: ${err.message}`);
    await reply.code(code).send({ error: err.message });
  });

  // Pages: fixed templates; the page code reads the token from the URL.
  for (const page of Object.keys(PAGES)) {
    app.get(page === 'index' ? '/' : `/${page}`, async (_req, reply) => {
      const html = renderPage(await readPageTemplate(), page);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    });
  }
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/lib/:name', async (req, reply) => {
    const file = libs[(req.params as { name: string }).name];
    if (!file) return reply.code(404).send({ error: 'unknown library' });
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(createReadStream(file));
  });
  app.get('/static/:name', async (req, reply) => {
    const name = (req.params as { name: string }).name;
    if (!/^[a-z0-9-]+\.(js|css|js\.map)$/.test(name)) return reply.code(404).send({ error: 'not found' });
    const file = name.endsWith('.css') ? path.join(publicDir(), name) : path.join(clientDir(), name);
    const exists = await fs.stat(file).then((s) => s.isFile(), () => false);
    if (!exists) return reply.code(404).send({ error: `${name} not found${name.endsWith('.css') ? '' : ' (build @voxseg/dashboard: npm run build)'}` });
    return reply.type(name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8').header('cache-control', 'no-store').send(createReadStream(file));
  });

  // --- runs -------------------------------------------------------------------------
  app.get('/api/runs', async () => {
    const { runs, groups } = await discoverRuns(runsRoot);
    return { root: runsRoot, runs, groups, predictions: predictionSets.map((p, i) => ({ id: String(i), name: path.basename(p.pred) })) };
  });

  /** The folder of run `id` (a run-root-relative path), refusing anything that is not a run. */
  const runDir = async (id: unknown): Promise<string> => {
    if (typeof id !== 'string' || id === '') throw new PathRefusedError('run: missing', 400);
    const dir = await resolveInside(runsRoot, id, { mustExist: true });
    const isRun = await Promise.all(['events.jsonl', 'config.json'].map((f) => fs.stat(path.join(dir, f)).then(() => true, () => false)));
    if (!isRun.some(Boolean)) throw new PathRefusedError(`run ${id}: not a run folder`, 404);
    return dir;
  };

  const RUN_FILES = new Set(['config.json', 'metrics.json', 'splits.json']);
  app.get('/api/run-file', async (req, reply) => {
    const q = req.query as { run?: string; name?: string };
    if (!q.name || !RUN_FILES.has(q.name)) return reply.code(400).send({ error: `name must be one of ${[...RUN_FILES].join(', ')}` });
    if (typeof q.run !== 'string') return reply.code(400).send({ error: 'run: missing' });
    const dir = await resolveInside(runsRoot, q.run, { mustExist: true });
    const file = path.join(dir, q.name);
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (text === null) return reply.code(404).send({ error: `${q.name} not found` });
    return reply.type('application/json').send(text);
  });

  // Live events: each file once from its start, then only what is appended, as server-sent
  // events `events` with data `{ run, records }`. Several `run` parameters (a cv group's folds)
  // share one connection: browsers allow only a few per host.
  app.get('/api/events', async (req, reply) => {
    const asked = (req.query as { run?: string | string[] }).run;
    const ids = Array.isArray(asked) ? asked : asked === undefined ? [] : [asked];
    if (ids.length === 0 || ids.length > 64) return reply.code(400).send({ error: 'run: give 1 to 64 run ids' });
    const tails = await Promise.all(ids.map(async (id) => ({ id, tail: new JsonlTail(path.join(await runDir(id), 'events.jsonl')) })));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // A new connection (also an EventSource reconnect) starts every file from byte 0: the client resets first.
    res.write('event: reset\ndata: {}\n\n');
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let sinceBeat = 0;
    const stop = () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      live.delete(stop);
      res.end();
    };
    live.add(stop);
    req.raw.on('close', stop);
    const pump = async () => {
      if (closed) return;
      let sent = false;
      for (const { id, tail } of tails) {
        try {
          const chunk = await tail.read();
          if (closed) return;
          if (chunk.restarted) res.write(`event: reset\ndata: ${JSON.stringify({ run: id })}\n\n`);
          if (chunk.records.length) {
            res.write(`event: events\ndata: ${JSON.stringify({ run: id, records: chunk.records })}\n\n`);
            sent = true;
          }
        } catch (err) {
          res.write(`event: problem\ndata: ${JSON.stringify({ run: id, message: (err as Error).message })}\n\n`);
        }
      }
      sinceBeat = sent ? 0 : sinceBeat + pollMs;
      if (sinceBeat >= 15_000) {
        res.write(': keep-alive\n\n');
        sinceBeat = 0;
      }
      if (!closed) timer = setTimeout(() => void pump(), pollMs);
    };
    void pump();
  });

  // Commands: appended to the run's commands.jsonl, which the trainer follows.
  app.post('/api/command', async (req, reply) => {
    const dir = await runDir((req.query as { run?: string }).run);
    let command;
    try {
      command = parseTrainerCommand(req.body);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    const { runs } = await discoverRuns(dir, { maxDepth: 0 });
    const status = runs[0]?.status;
    // A quiet run (`idle`) may be in a long validation; only a run that has ended is refused.
    if (status === 'completed' || status === 'stopped' || status === 'error') {
      return reply.code(409).send({ error: `the run has ended (${status}); commands reach only a live training` });
    }
    // The trainer takes only lines written after it started (older ones are never replayed).
    if (status === 'new') return reply.code(409).send({ error: 'the training has not started yet (no runStart in events.jsonl); send the command once it runs' });
    const id = `c-${randomBytes(6).toString('hex')}`;
    const { id: _ignored, ...clean } = command;
    appendCommand(commandsFilePath(dir), clean, id);
    return { id, command: clean };
  });

  // A run's final model for the in-browser inference page: model.json and its weight files,
  // under /api/run-model/<run id, URL-encoded>/<file> so tfjs finds the weights next to model.json.
  app.get('/api/run-model/:run/:file', async (req, reply) => {
    const { run, file } = req.params as { run: string; file: string };
    // Only the network (not the optimizer state or trainer-state.json next to it).
    if (file !== 'model.json' && file !== 'weights.bin') return reply.code(400).send({ error: 'file: model.json or weights.bin' });
    const dir = await runDir(run);
    const target = await resolveInside(dir, `model/${file}`, { mustExist: true });
    return reply.type(file.endsWith('.json') ? 'application/json' : 'application/octet-stream').header('cache-control', 'no-store').send(createReadStream(target));
  });

  // --- predictions ---------------------------------------------------------------------
  const predictionSet = (id: unknown) => {
    const set = typeof id === 'string' && /^\d+$/.test(id) ? predictionSets[Number(id)] : undefined;
    if (!set) throw new PathRefusedError('unknown prediction set', 404);
    return set;
  };
  app.get('/api/predictions', async (req) => {
    const set = predictionSet((req.query as { set?: string }).set);
    return { name: path.basename(set.pred), ...(await listPredictionCases(set)) };
  });
  app.get('/api/prediction-file', async (req, reply) => {
    const q = req.query as { set?: string; case?: string; kind?: string };
    const set = predictionSet(q.set);
    const file = await resolvePredictionFile(set, q.case, q.kind);
    return reply.type('application/octet-stream').header('cache-control', 'no-store').send(createReadStream(file));
  });

  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/?token=${token}`;
  return {
    url,
    token,
    host,
    port,
    async close() {
      for (const stop of [...live]) stop();
      await app.close();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);
}

