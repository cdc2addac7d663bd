// Benchmark: sample + fully augment one 128^3 four-channel patch from a 240x240x155 volume.
// Target (issue 3): under 1 s. Runs on the built package: build core and this package first
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/plugin-data-brats/tsconfig.build.json
//   node packages/plugin-data-brats/bench/augment.mjs [--json]
import os from 'node:os';
import { Rng } from '@voxseg/core';
import { PatchSampler, da4Pipeline } from '../dist/index.js';

const SHAPE = [155, 240, 240, 4]; // [D, H, W, C] = NIfTI 240x240x155, four modalities
const PATCH = [128, 128, 128];

/** A z-scored-looking volume: smooth structure plus noise, a brain-shaped non-zero region, a tumour label blob. */
function makeCase() {
  const [D, H, W, C] = SHAPE;
  const rng = new Rng(7);
  const image = new Float32Array(D * H * W * C);
  const label = new Uint8Array(D * H * W);
  for (let d = 0, i = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++, i++) {
        const r = ((d - 77) / 70) ** 2 + ((h - 120) / 100) ** 2 + ((w - 120) / 85) ** 2;
        if (r < 1) {
          for (let c = 0; c < C; c++) image[i * C + c] = Math.sin(d / 9 + c) + Math.cos(h / 13) * 0.5 + (rng.next() - 0.5) * 0.3;
          const t = ((d - 70) / 18) ** 2 + ((h - 100) / 22) ** 2 + ((w - 140) / 20) ** 2;
          label[i] = t < 0.3 ? 4 : t < 0.6 ? 1 : t < 1 ? 2 : 0;
        }
      }
    }
  }
  return { meta: { id: 'bench' }, image, shape: SHAPE, label };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time `reps` samples for one configuration; returns the median and all times in ms. */
function timeConfig(caseData, augmenters, reps, foreground) {
  const sampler = new PatchSampler([caseData], { patchSize: PATCH, augmenters });
  const times = [];
  const cpu = [];
  for (let r = 0; r < reps; r++) {
    const rng = new Rng(`bench:${r}`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    sampler.sample(rng, foreground);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  // CPU time is reported beside wall time: on a shared machine it is the steadier figure.
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { medianMs: median(times), cpuMedianMs: median(cpu), meanMs: mean(times), cpuMeanMs: mean(cpu), times: times.map((t) => Math.round(t)) };
}

/** Time each augmenter alone (p = 1) on an already-read patch. */
function timeEach(caseData, perChannel) {
  const out = {};
  const sampler = new PatchSampler([caseData], { patchSize: PATCH });
  for (const aug of da4Pipeline({ p: 1, ...perChannel })) {
    const times = [];
    for (let r = 0; r < 3; r++) {
      const { sample } = sampler.sample(new Rng(r), true);
      const rng = new Rng(`each:${r}`);
      const t0 = performance.now();
      if (aug.transformGrid) {
        const grid = { shape: [...PATCH], d: new Float32Array(128 ** 3), h: new Float32Array(128 ** 3), w: new Float32Array(128 ** 3) };
        aug.transformGrid(grid, rng);
      } else aug.apply(sample, rng);
      times.push(performance.now() - t0);
    }
    out[aug.name] = Math.round(median(times));
  }
  return out;
}

export async function run({ json = false, reps = 5 } = {}) {
  const caseData = makeCase();
  // Every transform on (p = 1 per sample), DA4's per-channel probabilities unchanged.
  const full = timeConfig(caseData, da4Pipeline({ p: 1 }), reps, true);
  // Worst case: per-channel probabilities forced to 1 too (blur and low resolution on all 4 channels).
  const allChannels = {
    RandGaussianBlur: { pPerChannel: 1 },
    RandLowResolution: { pPerChannel: 1 },
    RandBrightnessAdditive: { pPerChannel: 1 },
  };
  const worst = timeConfig(caseData, da4Pipeline({ p: 1, ...allChannels }), reps, true);
  const none = timeConfig(caseData, [], reps, true);
  // What training pays on average: DA4 with its own probabilities, a batch-2 mix of random and
  // foreground samples.
  const typical = timeConfig(caseData, da4Pipeline(), 2 * reps, false);
  const result = {
    benchmark: 'augment',
    volume: SHAPE,
    patch: [...PATCH, 4],
    targetMs: 1000,
    sampleOnlyMedianMs: Math.round(none.medianMs),
    typicalDa4MeanMs: Math.round(typical.meanMs),
    typicalDa4CpuMeanMs: Math.round(typical.cpuMeanMs),
    fullAugmentMedianMs: Math.round(full.medianMs),
    fullAugmentAllChannelsMedianMs: Math.round(worst.medianMs),
    fullAugmentCpuMedianMs: Math.round(full.cpuMedianMs),
    fullAugmentAllChannelsCpuMedianMs: Math.round(worst.cpuMedianMs),
    fullAugmentTimesMs: full.times,
    perAugmenterMs: timeEach(caseData, allChannels),
    // Judged on CPU time: on a machine shared with other jobs, wall time mostly measures the
    // wait for a core (both are reported).
    loadAverage: os.loadavg()[0],
    pass: full.cpuMedianMs < 1000,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`augment: sample only ${result.sampleOnlyMedianMs} ms; sample + full DA4 (p=1) ${result.fullAugmentMedianMs} ms ` +
      `(cpu ${result.fullAugmentCpuMedianMs} ms); with every channel augmented ${result.fullAugmentAllChannelsMedianMs} ms ` +
      `(cpu ${result.fullAugmentAllChannelsCpuMedianMs} ms); target < 1000 ms (CPU) -> ${result.pass ? 'PASS' : 'FAIL'}; load average ${result.loadAverage.toFixed(1)}`);
    console.log(`  DA4 with its own probabilities (training): mean ${result.typicalDa4MeanMs} ms (cpu ${result.typicalDa4CpuMeanMs} ms) per patch`);
    console.log(`  per augmenter (ms): ${JSON.stringify(result.perAugmenterMs)}`);
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ json: process.argv.includes('--json') });
}
