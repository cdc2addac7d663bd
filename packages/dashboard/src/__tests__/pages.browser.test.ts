// The pages in a real browser (playwright-core driving the system's Chromium, headless):
// the run list, live charts fed by server-sent events, the cv group page. Screenshots go to
// packages/dashboard/screenshots/.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleClient } from '../../scripts/bundle-client.mjs';
import { type DashboardServer, startDashboard } from '../server/dashboard-server.js';
import { CHROMIUM, CHROMIUM_ARGS, epochLines, writeRun } from './fixtures.js';

// Screenshots of each page, for people to look at (git-ignored; the README's copies are in docs/).
const docs = process.env.VOXSEG_SCREENSHOTS ?? fileURLToPath(new URL('../../screenshots/', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-dash-pages-'));
const runs = path.join(work, 'runs');
let server: DashboardServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set VOXSEG_CHROMIUM`).toBe(true);
  await bundleClient();
  writeRun(path.join(runs, 'BL', 'fold_0'), { epochs: 6, total: 20, fold: 0, ended: 'completed' });
  writeRun(path.join(runs, 'BL', 'fold_1'), { epochs: 5, total: 20, fold: 1, seed: 1 });
  writeRun(path.join(runs, 'BL', 'fold_2'), { epochs: 4, total: 20, fold: 2, seed: 2 });
  writeRun(path.join(runs, 'single'), { epochs: 3, total: 10 });
  server = await startDashboard({ runs, pollMs: 100, logger: { info: () => undefined, warn: () => undefined } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  mkdirSync(docs, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const url = (p: string, q: Record<string, string> = {}) => `http://127.0.0.1:${server.port}${p}?${new URLSearchParams({ ...q, token: server.token })}`;

describe('dashboard pages in Chromium', () => {
  it('the run list shows every run, its status and the cv group', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#runs tr[data-run="single"]');
    const rows = await page.$$eval('#runs tr[data-run]', (trs) => trs.map((tr) => [tr.getAttribute('data-run'), tr.querySelector('.status')?.textContent]));
    expect(rows).toEqual([['BL/fold_0', 'completed'], ['BL/fold_1', 'running'], ['BL/fold_2', 'running'], ['single', 'running']]);
    expect(await page.textContent('#groups')).toContain('BL');
    await page.screenshot({ path: path.join(docs, 'run-list.png') });
  });

  it('a chart gains points within seconds when events are appended to a live run', async () => {
    await page.goto(url('/run', { id: 'single' }));
    const points = () => page.$eval('#chart-loss', (el) => Number((el as HTMLElement).dataset.points));
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-loss')?.dataset.points) > 0, null, { timeout: 10_000 });
    const before = await points();
    const diceBefore = await page.$eval('#chart-dice', (el) => Number((el as HTMLElement).dataset.points));
    const t0 = Date.now();
    appendFileSync(path.join(runs, 'single', 'events.jsonl'), epochLines(3, 2, 4));
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-loss')?.dataset.points) > n, before, { timeout: 5000 });
    const seconds = (Date.now() - t0) / 1000;
    expect(seconds).toBeLessThan(5);
    // 8 new batches (raw + smoothed) and 2 train + 2 validation epoch points.
    expect(await points()).toBe(before + 8 * 2 + 4);
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-dice')?.dataset.points) > n, diceBefore, { timeout: 5000 });
    expect(await page.textContent('#stats')).toContain('5 / 10');
    // The raw toggle removes the 20 raw batch points (5 epochs x 4; the smoothed line stays).
    const withRaw = await points();
    await page.uncheck('#raw');
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-loss')?.dataset.points) === n, withRaw - 5 * 4, { timeout: 5000 });
    await page.check('#raw');
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#chart-loss')?.dataset.points) === n, withRaw, { timeout: 5000 });
    expect(await page.textContent('#log')).toMatch(/epochEnd trainLoss=/);
    await page.screenshot({ path: path.join(docs, 'run-live.png'), fullPage: true });
  });

  it('the cv group page overlays the folds with mean ± std', async () => {
    await page.goto(url('/group', { id: 'BL' }));
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-dice')?.dataset.points) > 0, null, { timeout: 10_000 });
    // 6 + 5 + 4 fold points, and a band point for each epoch at least two folds reached (5).
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-dice')?.dataset.points) === 15 + 5, null, { timeout: 5000 });
    await page.screenshot({ path: path.join(docs, 'cv-group.png'), fullPage: true });
  });

  it('a page opened without the token shows a refusal and no data', async () => {
    const res = await page.goto(`http://127.0.0.1:${server.port}/run?id=single`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/missing or wrong token/);
    expect(pageErrors).toEqual([]);
  });
});
