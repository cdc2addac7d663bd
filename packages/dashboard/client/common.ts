// Shared by every page: the token, API calls, links, live event streams, small formatters.

const params = new URLSearchParams(location.search);

/** The access token from the page's URL (`?token=...`), sent with every API call. */
export const token = params.get('token') ?? '';

/** A query parameter of the page's URL. */
export function param(name: string): string | null {
  return params.get(name);
}

/** A same-origin link that keeps the token. */
export function link(pathname: string, query: Record<string, string> = {}): string {
  return `${pathname}?${new URLSearchParams({ ...query, token }).toString()}`;
}

/** GET/POST a JSON API endpoint with the token; throws with the server's message on 4xx/5xx. */
export async function api<T>(pathname: string, query: Record<string, string> = {}, body?: unknown): Promise<T> {
  const res = await fetch(`${pathname}?${new URLSearchParams(query).toString()}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-voxseg-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as T & { error?: string }) : ({} as T & { error?: string });
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`);
  return data;
}

/**
 * Follow runs' events.jsonl over server-sent events. `onReset(run)` comes first on every
 * (re)connection, then `onEvents(run, events)` with each batch of new lines.
 */
export function followEvents(runs: string[], handlers: { onReset(run: string): void; onEvents(run: string, events: import('../src/series/run-state.js').EventRecord[]): void }): EventSource {
  const q = new URLSearchParams(runs.map((r) => ['run', r]));
  q.set('token', token);
  const source = new EventSource(`/api/events?${q.toString()}`);
  source.addEventListener('reset', (e) => {
    const { run } = JSON.parse((e as MessageEvent<string>).data) as { run?: string };
    for (const r of run ? [run] : runs) handlers.onReset(r);
  });
  source.addEventListener('events', (e) => {
    const { run, records } = JSON.parse((e as MessageEvent<string>).data) as { run: string; records: import('../src/series/run-state.js').EventRecord[] };
    handlers.onEvents(run, records);
  });
  return source;
}

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function fmtNum(v: number | undefined | null, digits = 4): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(digits);
}

export function fmtDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

export function fmtBytes(b: number | undefined): string {
  if (b === undefined) return '–';
  return b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GiB` : `${(b / (1 << 20)).toFixed(1)} MiB`;
}

export function setWhere(html: string): void {
  document.getElementById('where')!.innerHTML = html;
  (document.getElementById('home') as HTMLAnchorElement).href = link('/');
}

/** A metrics table (`{ region: { dice, hd95 } }`), regions as columns. */
export function metricsTable(rows: { label: string; metrics: Record<string, { dice: number | null; hd95: number | null }> }[]): string {
  const regions = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const head = `<tr><th></th>${regions.map((r) => `<th>${esc(r)} Dice</th><th>${esc(r)} HD95</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => `<tr><td>${esc(r.label)}</td>${regions.map((g) => `<td>${fmtNum(r.metrics[g]?.dice)}</td><td>${fmtNum(r.metrics[g]?.hd95)}</td>`).join('')}</tr>`)
    .join('');
  return `<table class="metrics">${head}${body}</table>`;
}
