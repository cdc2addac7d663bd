// The prediction viewer in Chromium (WebGL2 through SwiftShader): cases worst first, niivue
// draws the image with the label overlay in the BraTS colours, the ground-truth toggle.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesizeDataset } from '@voxseg/plugin-data-brats';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleClient } from '../../scripts/bundle-client.mjs';
import { type DashboardServer, startDashboard } from '../server/dashboard-server.js';
import { CHROMIUM, CHROMIUM_ARGS } from './fixtures.js';

const shots = process.env.VOXSEG_SCREENSHOTS ?? fileURLToPath(new URL('../../screenshots/', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'voxseg-dash-viewer-'));
const images = path.join(work, 'test');
const pred = path.join(work, 'pred');
let ids: string[];
let server: DashboardServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (or set VOXSEG_CHROMIUM)`).toBe(true);
  await bundleClient();
  ids = await synthesizeDataset(images, 2, 3, [48, 48, 32]);
  mkdirSync(pred);
  // The predictions are the reference labels: the overlay must show all three labels.
  for (const id of ids) copyFileSync(path.join(images, id, `${id}_seg.nii.gz`), path.join(pred, `${id}.nii.gz`));
  const m = (d: number) => ({ WT: { dice: d, hd95: 2 }, TC: { dice: d - 0.1, hd95: 3 }, ET: { dice: d - 0.2, hd95: 4 } });
  writeFileSync(path.join(work, 'evaluation.json'), JSON.stringify({ cases: { [ids[0]!]: m(0.95), [ids[1]!]: m(0.7) }, mean: m(0.825) }));
  server = await startDashboard({ runs: work, predictions: [{ pred, images, evaluation: path.join(work, 'evaluation.json') }], logger: { info: () => undefined, warn: () => undefined } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  mkdirSync(shots, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Pixels of the niivue canvas close to each BraTS label colour (1 red, 2 green, 4 yellow), counted from a screenshot. */
async function overlayPixels(): Promise<{ red: number; green: number; yellow: number; total: number }> {
  await page.waitForSelector('#nv[data-ready=true]');
  await page.waitForTimeout(500); // one more animation frame for the redraw
  // A clip of the page (niivue keeps the canvas "animating", so an element screenshot never settles).
  const box = (await page.locator('#nv').boundingBox())!;
  const png = (await page.screenshot({ clip: box })).toString('base64');
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let green = 0;
    let yellow = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i]!, d[i + 1]!, d[i + 2]!];
      if (r > g + 60 && r > b + 60) red++;
      else if (g > r + 60 && g > b + 60) green++;
      else if (r > b + 60 && g > b + 60 && Math.abs(r - g) < 60) yellow++;
    }
    return { red, green, yellow, total: d.length / 4 };
  }, png);
}

describe('prediction viewer in Chromium', () => {
  it('lists the cases worst first and shows the case\'s Dice and HD95', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/viewer?set=0&token=${server.token}`);
    await page.waitForSelector('#cases a');
    expect(await page.$$eval('#cases a', (as) => as.map((a) => a.getAttribute('data-case')))).toEqual([ids[1], ids[0]]);
    const metrics = await page.textContent('#case-metrics');
    expect(metrics).toContain('WT Dice');
    expect(metrics).toContain('0.7000');
    expect(metrics).toContain('HD95');
  });

  it('draws the prediction overlay in the label colours; none without overlay; the ground truth on its toggle', async () => {
    const withPred = await overlayPixels();
    await page.screenshot({ path: path.join(shots, 'viewer.png') });
    // Necrosis is a small core in the synthetic tumour: a few pixels; edema and enhancing rim are large.
    expect(withPred.red, JSON.stringify(withPred)).toBeGreaterThan(0);
    expect(withPred.green).toBeGreaterThan(20);
    expect(withPred.yellow).toBeGreaterThan(20);
    await page.check('input[name=overlay][value=none]');
    await page.waitForSelector('#nv[data-overlay=none][data-ready=true]');
    const none = await overlayPixels();
    expect(none.red + none.green + none.yellow).toBeLessThan(5);
    await page.check('#gt');
    await page.waitForSelector('#nv[data-overlay=seg][data-ready=true]');
    const gt = await overlayPixels();
    expect(gt.green).toBeGreaterThan(20);
  });
});
