import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { centreOf, crc32, curveSeries, encodePng, intensityWindow, renderCaseOverlay, writeRunReport } from './index.js';

/** Decode our own PNG output back to RGB (IHDR + concatenated IDAT, filter 0 rows). */
function decodePng(buf: Buffer): { width: number; height: number; rgb: Uint8Array } {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8, width = 0, height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('ascii');
    const data = buf.subarray(off + 8, off + 8 + len);
    expect(buf.readUInt32BE(off + 8 + len)).toBe(crc32(buf.subarray(off + 4, off + 8 + len)));
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  return { width, height, rgb };
}

describe('png', () => {
  it('crc32 matches the standard check value', () => {
    // CRC-32/ISO-HDLC check value of "123456789" (the catalogue value used by zlib and PNG).
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('round-trips pixels', () => {
    const rgb = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256);
    const back = decodePng(encodePng(rgb, 5, 3));
    expect(back.width).toBe(5);
    expect(back.height).toBe(3);
    expect([...back.rgb]).toEqual([...rgb]);
  });
  it('rejects a wrong buffer size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(/expected 12 bytes/);
  });
});

describe('overlay', () => {
  it('finds the tumour centre and colours labels', () => {
    const shape: [number, number, number] = [8, 10, 12];
    const n = 8 * 10 * 12;
    const img = new Float32Array(n).map((_, i) => 1 + (i % 7));
    const label = new Uint8Array(n);
    label[(4 * 10 + 5) * 12 + 6] = 4;
    label[(4 * 10 + 5) * 12 + 7] = 4;
    expect(centreOf(label, shape)).toEqual([4, 5, 7]);
    expect(centreOf(undefined, shape)).toEqual([4, 5, 6]);
    const png = renderCaseOverlay({ channels: [{ name: 'a', data: img }, { name: 'b', data: img }], shape, label, reference: label });
    const { width, height, rgb } = decodePng(png);
    // 3 columns (2 modalities + reference), 3 rows, cells of 12 voxels upscaled 2x, 4 px gaps.
    expect(width).toBe(3 * (24 + 4) + 4);
    expect(height).toBe(3 * (24 + 4) + 4);
    let yellow = 0;
    for (let p = 0; p < rgb.length; p += 3) if (rgb[p]! - rgb[p + 2]! > 60 && rgb[p + 1]! - rgb[p + 2]! > 50) yellow++; // grey has R=G=B
    expect(yellow).toBeGreaterThan(0);
  });
  it('windows intensities on non-zero voxels', () => {
    const d = new Float32Array(1000).map((_, i) => (i < 500 ? 0 : i));
    const [lo, hi] = intensityWindow(d);
    expect(lo).toBeGreaterThanOrEqual(500);
    expect(lo).toBeLessThan(510);
    expect(hi).toBeGreaterThan(990);
  });
});

describe('run report', () => {
  const base = { runId: 'r', timestamp: 0 };
  const events = [
    { type: 'runStart', ...base, epoch: 0, iteration: 0, epochs: 2, iterationsPerEpoch: 2, backend: 'cpu', network: 'BL', parameters: 1, seed: 1, startEpoch: 0, resumed: false, plugins: [] },
    { type: 'epochStart', ...base, epoch: 0, iteration: 0, lr: 0.01 },
    { type: 'batchEnd', ...base, epoch: 0, iteration: 0, loss: 0.5, lr: 0.01, ms: 1 },
    { type: 'batchEnd', ...base, epoch: 0, iteration: 1, loss: 0.4, lr: 0.01, ms: 1 },
    { type: 'validationEnd', ...base, epoch: 0, iteration: 2, loss: 0.45, dice: { WT: 0.5, TC: 0.4, ET: 0.3 }, meanDice: 0.4, ms: 1 },
    { type: 'epochEnd', ...base, epoch: 0, iteration: 2, trainLoss: 0.45, valLoss: 0.45, meanDice: 0.4, emaDice: 0.4, lr: 0.01, ms: 2 },
    { type: 'epochStart', ...base, epoch: 1, iteration: 0, lr: 0.005 },
    { type: 'batchEnd', ...base, epoch: 1, iteration: 0, loss: 0.3, lr: 0.005, ms: 1 },
    { type: 'runEnd', ...base, epoch: 1, iteration: 1, reason: 'stopped', epochsCompleted: 1, ms: 10 },
  ];
  it('extracts the curves', () => {
    const s = curveSeries(events as never);
    expect(s.lr.map((p) => p.y)).toEqual([0.01, 0.005]);
    expect(s.loss.filter((p) => p.series === 'train (batch)').map((p) => p.x)).toEqual([0.5, 1, 1.5]);
    expect(s.dice.filter((p) => p.series === 'ET')).toEqual([{ x: 1, y: 0.3, series: 'ET' }]);
  });
  it('writes plots and report.html, tolerating a cut last line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxseg-report-'));
    writeFileSync(path.join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n{"type":"batch');
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ variant: 'BL' }));
    writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify({ cases: { c1: { WT: { dice: 0.9, hd95: 2 } } }, mean: { WT: { dice: 0.9, hd95: 2 } } }));
    const files = await writeRunReport(dir);
    for (const f of files.plots) expect(existsSync(f)).toBe(true);
    expect(files.plots.some((f) => f.endsWith('dice.png'))).toBe(true);
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('stopped');
    expect(html).toContain('0.9000');
    expect(html).toContain('&quot;variant&quot;');
  });
});
