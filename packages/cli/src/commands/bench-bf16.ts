import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { cliHost } from '../options/engine-host.js';
import { numberFlag } from '../options/flags.js';
import { createLogger } from '../util/logger.js';
import { CliError } from './types.js';

/** Options of `voxseg bench bf16-agreement` as commander parses them. */
interface AgreementFlags {
  run: string;
  input: string;
  emulate?: boolean;
  minDice: number;
  step: number;
  json?: boolean;
}

/** Per-case Dice of the bf16 labels against the fp32 labels, per BraTS region. */
export interface RegionAgreement {
  id: string;
  dice: Record<string, number>;
}

/**
 * Dice of two BraTS label maps (0/1/2/4) per region (WT, TC, ET), one map taken as the
 * reference; a region empty in both counts 1 (nnU-Net's BraTS convention, core's `dice`).
 */
export async function regionAgreement(a: Uint8Array, b: Uint8Array): Promise<Record<string, number>> {
  const { labelsToRegions, BRATS_REGION_NAMES } = await import('@voxseg/plugin-data-brats');
  const { dice } = await import('@voxseg/core');
  const ra = labelsToRegions(a), rb = labelsToRegions(b);
  const k = BRATS_REGION_NAMES.length;
  const out: Record<string, number> = {};
  for (let r = 0; r < k; r++) {
    const ma = new Uint8Array(a.length), mb = new Uint8Array(b.length);
    for (let i = 0; i < a.length; i++) {
      ma[i] = ra[i * k + r]!;
      mb[i] = rb[i * k + r]!;
    }
    out[BRATS_REGION_NAMES[r]!] = dice(mb, ma);
  }
  return out;
}

/**
 * Predict every case of `--input` with `--run` at fp32 and at bf16 on `native`, and compare
 * the labels per region. bf16 is oneDNN's where the CPU has it; without it the check is
 * skipped (exit 0, the reason printed) unless `--emulate`, which rounds each bf16 layer's
 * input and weights to bf16 and computes in fp32 (bf16-emulation.ts in backend-native),
 * labelled as such in the output. Exit 1 when a region's Dice is below `--min-dice`.
 */
async function runAgreement(flags: AgreementFlags): Promise<void> {
  if (!(flags.minDice > 0 && flags.minDice <= 1)) throw new CliError(`--min-dice: expected a number in (0, 1], got ${flags.minDice}`);
  if (!(flags.step > 0 && flags.step <= 1)) throw new CliError(`--step: expected a number in (0, 1], got ${flags.step}`);
  const logger = createLogger();
  const core = await import('@voxseg/core');
  const native = await import('@voxseg/backend-native');
  const { createEngineExperimentFrom, predictFolder } = await import('@voxseg/engine');
  let backend: string;
  try {
    backend = (await core.selectBackend('native')).name;
  } catch (err) {
    throw new CliError(`voxseg bench bf16-agreement: needs the native backend: ${(err as Error).message}`);
  }
  if (backend !== 'native') throw new CliError(`voxseg bench bf16-agreement: needs the native backend, got ${backend}`);
  const caps = native.nativeCapabilities();
  const mode = caps.bf16 ? 'bf16' : flags.emulate ? 'emulated-bf16' : undefined;
  if (!mode) {
    const why = `this CPU has no bf16 convolutions (oneDNN ISA ${caps.isa}; needs AVX512-BF16 or AMX): ${caps.reason}`;
    process.stdout.write(`bf16-agreement: SKIPPED: ${why}; --emulate runs the numerical emulation instead\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ skipped: true, reason: why, isa: caps.isa })}\n`);
    return;
  }
  const experiment = await createEngineExperimentFrom([]);
  const predict = async (precision: 'fp32' | 'bf16'): Promise<Map<string, Uint8Array>> => {
    const labels = new Map<string, Uint8Array>();
    const out = mkdtempSync(path.join(tmpdir(), 'voxseg-bf16-agreement-'));
    try {
      await predictFolder({
        ...cliHost(logger),
        experiment,
        runs: [flags.run],
        input: flags.input,
        out,
        inference: { step: flags.step, tta: false, threshold: 0.5, windowBatchSize: 1, postprocess: false, precision },
        onCase: async (data, pred) => {
          labels.set(data.meta.id, pred.croppedLabels);
        },
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    return labels;
  };
  const t0 = performance.now();
  const fp32 = await predict('fp32');
  const t1 = performance.now();
  let reduced: Map<string, Uint8Array>;
  try {
    // Real bf16 through the engine's inference.precision; the emulation is a separate switch
    // under fp32 (the engine's precision never turns it on).
    if (mode !== 'bf16') native.setBf16EmulationForAgreementCheck(true);
    reduced = await predict(mode === 'bf16' ? 'bf16' : 'fp32');
  } finally {
    native.setInferencePrecision('fp32');
    native.setBf16EmulationForAgreementCheck(false);
  }
  const t2 = performance.now();
  const cases: RegionAgreement[] = [];
  for (const [id, a] of fp32) {
    const b = reduced.get(id);
    if (!b) throw new CliError(`voxseg bench bf16-agreement: case ${id} predicted at fp32 but not at ${mode}`);
    cases.push({ id, dice: await regionAgreement(a, b) });
  }
  const regions = Object.keys(cases[0]?.dice ?? {});
  const min: Record<string, number> = {};
  for (const r of regions) min[r] = Math.min(...cases.map((c) => c.dice[r]!));
  for (const c of cases) process.stdout.write(`${c.id}: ${regions.map((r) => `${r} ${c.dice[r]!.toFixed(5)}`).join(', ')}\n`);
  process.stdout.write(
    `bf16-agreement (${mode === 'bf16' ? `oneDNN bf16, ${caps.bf16Impl}` : `NUMERICAL EMULATION (inputs and weights rounded to bf16, fp32 compute), ISA ${caps.isa}`}): ` +
      `${cases.length} case(s), min Dice vs fp32 ${regions.map((r) => `${r} ${min[r]!.toFixed(5)}`).join(', ')}; ` +
      `fp32 ${((t1 - t0) / 1000).toFixed(1)} s, ${mode} ${((t2 - t1) / 1000).toFixed(1)} s\n`,
  );
  const failed = regions.filter((r) => min[r]! < flags.minDice);
  if (flags.json) process.stdout.write(`${JSON.stringify({ skipped: false, mode, isa: caps.isa, minDice: min, cases, pass: failed.length === 0 })}\n`);
  if (failed.length > 0) throw new CliError(`bf16-agreement: Dice below ${flags.minDice} for ${failed.map((r) => `${r} (${min[r]!.toFixed(5)})`).join(', ')} (${mode})`);
}

/** Register `voxseg bench bf16-agreement` under the `bench` command. */
export function registerBenchBf16(bench: Command): void {
  bench
    .command('bf16-agreement')
    .description('labels of --precision bf16 against fp32 on a folder of cases: Dice per region (WT/TC/ET), exit 1 below --min-dice; skipped without bf16 convolutions')
    .requiredOption('--run <dir>', 'a run folder (its model)')
    .requiredOption('--input <dir>', 'BraTS-layout folder of cases, e.g. the demo\'s held-out cases')
    .option('--emulate', 'where the CPU has no bf16: run the numerical emulation (bf16-rounded inputs and weights, fp32 compute) instead of skipping')
    .option('--min-dice <d>', 'required Dice per region and case', numberFlag('--min-dice'), 0.995)
    .option('--step <f>', 'window step as a fraction of the patch', numberFlag('--step'), 0.5)
    .option('--json', 'print a JSON summary as the last line')
    .action((flags: AgreementFlags) => runAgreement(flags));
}
