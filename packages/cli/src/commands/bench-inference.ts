import type { Command } from 'commander';
import { CliError } from './types.js';

/** Options of `voxseg bench inference` as commander parses them. */
interface InferenceFlags {
  variant: string;
  shape: string;
  patch: string;
  step: string;
  tta?: boolean;
  backend: string;
  seed: string;
  json?: boolean;
}

function parseShape(value: string): [number, number, number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new CliError(`voxseg bench inference: --shape must be D,H,W,C (four positive integers), got '${value}'`);
  }
  return parts as [number, number, number, number];
}

/**
 * Whole-case inference as `voxseg predict` runs it (engine's `predictCase`: sliding window,
 * Gaussian weighting, optional 8-way mirroring, decoding to BraTS labels; no post-processing)
 * on a random case of `--shape` with an untrained network of the variant: seconds per case
 * and the windows' count. scripts/torch_bench.py times the same in PyTorch.
 */
async function runInference(flags: InferenceFlags): Promise<void> {
  const [d, h, w, c] = parseShape(flags.shape);
  const patch = Number(flags.patch);
  const step = Number(flags.step);
  if (!Number.isInteger(patch) || patch < 8) throw new CliError(`voxseg bench inference: --patch must be an integer >= 8, got '${flags.patch}'`);
  if (!(step > 0 && step <= 1)) throw new CliError(`voxseg bench inference: --step must be in (0, 1], got '${flags.step}'`);
  const core = await import('@voxseg/core');
  let backend: string;
  try {
    backend = (await core.selectBackend(flags.backend)).name;
  } catch (err) {
    throw new CliError(`voxseg bench inference: --backend ${flags.backend}: ${(err as Error).message}`);
  }
  const unet = await import('@voxseg/plugin-unet');
  const aa = await import('@voxseg/plugin-axial-attention');
  const { bratsTargetEncoding } = await import('@voxseg/plugin-data-brats');
  const { predictCase } = await import('@voxseg/engine');
  const exp = new core.Experiment().use(unet.unetPlugin()).use(aa.axialAttentionPlugin());
  let model: import('@tensorflow/tfjs-layers').LayersModel;
  try {
    model = unet.buildPreset(exp, flags.variant, { inChannels: c, outChannels: 3, patchSize: patch, deepSupervision: false, seed: Number(flags.seed) });
  } catch (err) {
    throw new CliError(`voxseg bench inference: --variant ${flags.variant}: ${(err as Error).message}`);
  }
  const rng = new core.Rng(Number(flags.seed));
  const image = new Float32Array(d * h * w * c);
  for (let i = 0; i < image.length; i++) image[i] = rng.normal();
  const shape3: [number, number, number] = [d, h, w];
  const caseData = {
    meta: { id: 'bench', affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], spacing: [1, 1, 1] as [number, number, number], originalShape: shape3, cropBox: { start: [0, 0, 0] as [number, number, number], end: shape3 }, modalities: [], files: {} },
    image,
    shape: [d, h, w, c] as [number, number, number, number],
  };
  let windows = 0;
  const t0 = performance.now();
  await predictCase([{ model, patch }], caseData, { targets: bratsTargetEncoding() }, {
    step,
    tta: flags.tta ?? false,
    postprocess: false,
    onProgress: (_m, p) => (windows = p.total),
  });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const tta = flags.tta ?? false;
  process.stdout.write(
    `inference ${flags.variant} case ${d}x${h}x${w}x${c}, patch ${patch}, step ${step}${tta ? ', 8-way TTA' : ''} on ${backend}: ${seconds.toFixed(1)} s ` +
      `(${windows} windows${tta ? ' x 8 mirrorings' : ''}; peak RSS ${peakRssMb.toFixed(0)} MB)\n`,
  );
  if (flags.json) process.stdout.write(`${JSON.stringify({ seconds, windows, tta, variant: flags.variant, shape: [d, h, w, c], patch, step, backend, peakRssMb })}\n`);
}

/** Register `voxseg bench inference` under the `bench` command. */
export function registerBenchInference(bench: Command): void {
  bench
    .command('inference')
    .description('whole-case inference as predict runs it (sliding window, Gaussian weighting, optional TTA): seconds per case')
    .option('--variant <V>', 'network preset (BL, BL+L, BL+GN, BL+L+GN, BL+AA)', 'BL')
    .option('--shape <D,H,W,C>', 'the case: depth, height, width, modalities (a BraTS case: 155,240,240,4)', '155,240,240,4')
    .option('--patch <P>', 'cubic patch edge', '128')
    .option('--step <S>', 'window step as a fraction of the patch', '0.5')
    .option('--tta', '8-way mirroring test-time augmentation')
    .option('--seed <S>', 'seed of the init and the random case', '0')
    .option('--backend <B>', 'auto, tensorflow, webgpu, native, cpu, wasm', 'auto')
    .option('--json', 'print {"seconds": s, ...} as the last line')
    .action((flags: InferenceFlags) => runInference(flags));
}
