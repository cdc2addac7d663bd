// Benchmark: load + preprocess one 240x240x155 four-modality case (read 4 int16 .nii.gz + seg,
// validate, crop to the brain, z-score, interleave channels-last). Target (issue 3): < 2 s.
// Also reports a load from the preprocessed-case cache and the synthetic case generation.
// Runs on the built package: build core and this package first
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/plugin-data-brats/tsconfig.build.json
//   node packages/plugin-data-brats/bench/load.mjs [--json]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BratsDataset, synthesizeDataset } from '../dist/index.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// CPU time of the process (all threads, including zlib's thread pool): a figure that does not
// grow when other processes compete for the cores, reported next to wall time.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export async function run({ json = false, repeats = 5 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'voxseg-bench-load-'));
  try {
    let c0 = cpuMs();
    let t = performance.now();
    const [id] = await synthesizeDataset(join(dir, 'data'), 1, 1, { shape: [240, 240, 155] });
    const synthMs = performance.now() - t;
    const synthCpuMs = cpuMs() - c0;
    const uncached = [];
    const uncachedCpu = [];
    for (let r = 0; r < repeats; r++) {
      const ds = new BratsDataset({ root: join(dir, 'data'), cacheDir: false });
      c0 = cpuMs();
      t = performance.now();
      await ds.loadCase(id);
      uncached.push(performance.now() - t);
      uncachedCpu.push(cpuMs() - c0);
    }
    const cacheDir = join(dir, 'cache');
    await new BratsDataset({ root: join(dir, 'data'), cacheDir }).loadCase(id); // fill
    const cached = [];
    let shape;
    for (let r = 0; r < repeats; r++) {
      const ds = new BratsDataset({ root: join(dir, 'data'), cacheDir });
      t = performance.now();
      shape = (await ds.loadCase(id)).shape;
      cached.push(performance.now() - t);
    }
    const result = {
      case: '240x240x155, 4 modalities int16 .nii.gz + seg',
      loadPreprocessMs: Math.round(median(uncached)),
      loadPreprocessCpuMs: Math.round(median(uncachedCpu)),
      targetMs: 2000,
      cachedLoadMs: Math.round(median(cached)),
      synthesizeAndWriteMs: Math.round(synthMs),
      synthesizeAndWriteCpuMs: Math.round(synthCpuMs),
      croppedShape: shape,
      repeats,
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(`load + preprocess (no cache): ${result.loadPreprocessMs} ms wall, ${result.loadPreprocessCpuMs} ms CPU (target < ${result.targetMs} ms), median of ${repeats}`);
      console.log(`load from the preprocessed cache: ${result.cachedLoadMs} ms; cropped shape ${shape.join('x')}`);
      console.log(`synthesize + write the case: ${result.synthesizeAndWriteMs} ms wall, ${result.synthesizeAndWriteCpuMs} ms CPU`);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run({ json: process.argv.includes('--json') });
}
