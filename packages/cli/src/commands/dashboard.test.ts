// `voxseg train --dashboard` end to end, in a real browser: the training appears live on the
// printed URL, and the page's Stop button ends it (the command crosses processes through the
// run's commands.jsonl) with runEnd { reason: 'stopped' } and a `last` checkpoint. Also the
// `voxseg dashboard` command's URL line and its bad-input errors.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti } from '@voxseg/plugin-data-brats';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url));
const CHROMIUM = process.env.VOXSEG_CHROMIUM ?? '/usr/bin/chromium';
const shots = process.env.VOXSEG_SCREENSHOTS ?? fileURLToPath(new URL('../../../dashboard/screenshots/', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-cli-dashboard-'));
const data = path.join(work, 'data');
const env = { ...process.env, VOXSEG_PROGRESS: 'off', VOXSEG_LOG_LEVEL: 'info' };
let browser: Browser | undefined;
const children: ChildProcess[] = [];

beforeAll(() => {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'bin.js')), 'packages/cli is not built').toBe(true);
  expect(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (or set VOXSEG_CHROMIUM)`).toBe(true);
  const r = spawnSync(process.execPath, [bin, 'synth', '--out', data, '--cases', '6', '--seed', '1', '--shape', '24,24,20'], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Start the CLI; resolves with the first stderr/stdout line matching `pattern`. */
function startCli(args: string[], pattern: RegExp): { child: ChildProcess; match: Promise<RegExpMatchArray>; exit: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { env });
  children.push(child);
  let out = '';
  const match = new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = out.match(pattern);
      if (m) resolve(m);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`voxseg exited before printing ${pattern}:\n${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, match, exit, output: () => out };
}

describe('voxseg train --dashboard', () => {
  it('shows the training live and the Stop button ends it with runEnd stopped and a checkpoint', async () => {
    const run = path.join(work, 'run');
    const cli = startCli(
      ['train', '--data', data, '--out', run, '--epochs', '500', '--iterations', '4', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--batch', '2', '--dashboard'],
      /dashboard: (http:\/\/127\.0\.0\.1:\d+\/run\?id=\.&token=[0-9a-f]{48})/,
    );
    const [, url] = await cli.match;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => void d.accept());
    await page.goto(url!);
    // Live: batches arrive while it trains.
    await page.waitForFunction("Number(document.querySelector('#chart-loss')?.dataset.points) >= 4", null, { timeout: 120_000 });
    expect(await page.textContent('#run-status')).toBe('running');
    mkdirSync(shots, { recursive: true });
    // A few epochs in, for a screenshot that shows curves.
    await page.waitForFunction("Number(document.querySelector('#chart-dice')?.dataset.points) >= 21", null, { timeout: 120_000 });
    await page.screenshot({ path: path.join(shots, 'run-training.png'), fullPage: true });
    await page.click('#stop');
    await page.waitForFunction("document.querySelector('#run-status')?.textContent === 'stopped'", null, { timeout: 60_000 });
    expect(await page.getAttribute('#command-status [data-command]', 'data-ack')).toBe('applied');
    expect(await cli.exit).toBe(0);

    const events = readFileSync(path.join(run, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    const applied = events.filter((e) => e.type === 'commandApplied');
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ id: expect.stringMatching(/^c-/), command: { type: 'stop', reason: 'stopped from the dashboard' } });
    expect(events.at(-2)).toMatchObject({ type: 'checkpointSaved', kind: 'last' });
    expect(events.at(-1)).toMatchObject({ type: 'runEnd', reason: 'stopped', message: 'stopped from the dashboard' });
    expect(existsSync(path.join(run, 'checkpoints', 'last', 'trainer-state.json'))).toBe(true);
    expect(readFileSync(path.join(run, 'commands.jsonl'), 'utf8')).toContain(`"id":"${applied[0]!.id as string}"`);
  }, 300_000);
});

describe('in-browser inference (the dashboard\'s /infer page)', () => {
  it('segments a case in Chromium with a trained run\'s model like voxseg predict does in Node (Dice >= 0.99), and offers it as NIfTI with the input\'s header', async () => {
    const runs = path.join(work, 'runs');
    const test = path.join(work, 'test');
    const pred = path.join(work, 'pred');
    const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env: { ...env, VOXSEG_LOG_LEVEL: 'warn' }, encoding: 'utf8' });
    let r = cli('train', '--data', data, '--out', path.join(runs, 'done'), '--epochs', '12', '--iterations', '8', '--val-iterations', '1', '--patch', '16', '--base-filters', '4', '--max-filters', '16', '--batch', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(cli('synth', '--out', test, '--cases', '1', '--seed', '2', '--shape', '24,24,20').status).toBe(0);
    r = cli('predict', '--run', path.join(runs, 'done'), '--input', test, '--out', pred);
    expect(r.status, r.stderr).toBe(0);
    const id = readdirSync(test)[0]!;
    const node = await readNifti(path.join(pred, `${id}.nii.gz`), { as: 'native' });

    const server = startCli(['dashboard', '--runs', runs], /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{48}))\n/);
    const [, , port, token] = await server.match;
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await page.goto(`http://127.0.0.1:${port!}/infer?token=${token!}`);
    await page.waitForSelector('#run option[value="done"]', { state: 'attached' });
    await page.setInputFiles('#files', ['t1', 't1ce', 't2', 'flair'].map((m) => path.join(test, id, `${id}_${m}.nii.gz`)));
    await page.click('#go');
    await page.waitForSelector('#progress[data-done=true], #infer-error', { timeout: 240_000 });
    expect(await page.$('#infer-error')).toBeNull();
    const backend = await page.getAttribute('#progress', 'data-backend');
    expect(['webgpu', 'webgl']).toContain(backend);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`${id}.nii.gz`);
    const file = path.join(work, `browser-${id}.nii.gz`);
    await download.saveAs(file);
    const browserSeg = await readNifti(file, { as: 'native' });
    const input = await readNifti(path.join(test, id, `${id}_t1.nii.gz`));
    expect(browserSeg.shape).toEqual(input.shape);
    expect(browserSeg.affine).toEqual(input.affine);
    expect(browserSeg.header.datatype).toBe(2); // uint8 labels, as voxseg predict writes
    // Dice between the two label maps: voxels with the same non-zero label, over all non-zero voxels.
    let same = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < node.data.length; i++) {
      const x = node.data[i]!;
      const y = browserSeg.data[i]!;
      if (x) a++;
      if (y) b++;
      if (x && x === y) same++;
    }
    expect(a, 'the Node prediction must contain tumour for the comparison to mean something').toBeGreaterThan(100);
    const dice = (2 * same) / (a + b);
    expect(dice, `Dice ${dice} (backend ${backend})`).toBeGreaterThanOrEqual(0.99);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'infer.png'), fullPage: true });
    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
  }, 400_000);
});

describe('voxseg dashboard', () => {
  it('prints one URL with the token on stdout and serves until SIGTERM', async () => {
    const cli = startCli(['dashboard', '--runs', work], /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48})\n/);
    const [, url] = await cli.match;
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect((await fetch(url!.replace(/token=\w+/, 'token=bad'))).status).toBe(403);
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
  }, 60_000);

  it('fails with one line for a bad --runs or --port', () => {
    const missing = spawnSync(process.execPath, [bin, 'dashboard', '--runs', path.join(work, 'nope')], { env, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^voxseg: --runs .*nope: not a folder$/);
    const port = spawnSync(process.execPath, [bin, 'dashboard', '--runs', work, '--port', 'x'], { env, encoding: 'utf8' });
    expect(port.status).toBe(1);
    expect(port.stderr.trim()).toBe('voxseg: --port: expected an integer, got "x"');
  });
});
