// HD95 / Dice / evaluateRegions speed on BraTS-sized volumes (240x240x155, 1 mm).
// Build core first: `npx tsc -p packages/core/tsconfig.build.json`, then
// `node packages/core/bench/metrics.bench.mjs [--json]`.
import { dice, evaluateRegions, hd95 } from '../dist/index.js';

const shape = [155, 240, 240];
const n = shape[0] * shape[1] * shape[2];

/** Ellipsoid mask; `bumps` roughens the surface so the surface is not trivially smooth. */
function ellipsoid(centre, radii, bumps = 0) {
  const m = new Uint8Array(n);
  const [D, H, W] = shape;
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const dz = (z - centre[0]) / radii[0], dy = (y - centre[1]) / radii[1], dx = (x - centre[2]) / radii[2];
        const r = 1 + bumps * Math.sin(x * 0.3) * Math.cos(y * 0.25) * Math.sin(z * 0.2);
        if (dz * dz + dy * dy + dx * dx <= r * r) m[(z * H + y) * W + x] = 1;
      }
  return m;
}

function time(label, fn, reps = 5) {
  fn(); // warm-up (JIT)
  const ms = [];
  let value;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { label, medianMs: +ms[Math.floor(ms.length / 2)].toFixed(1), minMs: +ms[0].toFixed(1), value };
}

const tumourP = ellipsoid([80, 110, 130], [22, 30, 26], 0.1);
const tumourR = ellipsoid([78, 114, 128], [20, 32, 25], 0.05);
const brainP = ellipsoid([77, 120, 120], [70, 100, 90], 0.05);
const brainR = ellipsoid([78, 118, 121], [72, 98, 88], 0.02);
const labelsP = new Uint8Array(n), labelsR = new Uint8Array(n);
for (let i = 0; i < n; i++) {
  labelsP[i] = tumourP[i] ? 2 : 0;
  labelsR[i] = tumourR[i] ? 2 : 0;
}
const coreP = ellipsoid([80, 110, 130], [10, 14, 12]);
const coreR = ellipsoid([79, 112, 129], [11, 13, 12]);
for (let i = 0; i < n; i++) {
  if (coreP[i]) labelsP[i] = 4;
  if (coreR[i]) labelsR[i] = 4;
}

const results = [
  time('hd95 tumour-sized masks (~60^3 box) in 240x240x155', () => hd95(tumourP, tumourR, shape, [1, 1, 1])),
  time('hd95 brain-sized masks (~145x200x180 box) in 240x240x155', () => hd95(brainP, brainR, shape, [1, 1, 1]), 3),
  time('dice 240x240x155', () => dice(brainP, brainR)),
  time('evaluateRegions WT/TC/ET 240x240x155 (dice, hd95, sens, spec)', () => evaluateRegions(labelsP, labelsR, shape, [1, 1, 1]), 3),
];
for (const r of results) console.log(`${r.label}: median ${r.medianMs} ms (min ${r.minMs} ms)`);
if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, results }));
