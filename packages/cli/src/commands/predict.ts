import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { selectBackend, splitChannels, writeFileAtomic } from '@voxseg/core';
import {
  CHECKPOINT_CHOICES,
  type CheckpointChoice,
  createEngineExperimentFrom,
  predictFolder,
  describeFailure,
  describeSlurmEvent,
  type ExecutorTask,
  renderSlurmPlan,
  runLocal,
  type SlurmPlan,
  submitSlurm,
  type TaskResult,
  waitSlurm,
  watchHints,
  worstExitCode,
} from '@voxseg/engine';
import { cliHost } from '../options/engine-host.js';
import { collect, intFlag, numberFlag } from '../options/flags.js';
import { applyPrecision, parsePrecisionFlag } from '../options/precision.js';
import { esc, page, renderCaseOverlay } from '../report/index.js';
import { createLogger, type Logger } from '../util/logger.js';
import { voxsegCommand } from '../util/voxseg-command.js';
import { CliError, type CommandModule } from './types.js';

interface PredictFlags {
  run: string;
  input: string;
  out: string;
  tta?: boolean;
  step: number;
  postprocess: boolean;
  etMinVoxels: number;
  threshold: number;
  backend: string;
  windowBatch: number;
  report?: boolean;
  json?: boolean;
  dataset?: string;
  plugin?: string[];
  parts?: number;
  part?: number;
  continue?: boolean;
  executor: string;
  parallel: number;
  slurmOpt: string[];
  wait?: boolean;
  dryRun?: boolean;
  checkpoint?: string;
  precision: string;
}

/** `voxseg predict`: sliding-window inference of one run or an ensemble on a BraTS-layout folder. */
export const predictCommand: CommandModule = {
  name: 'predict',
  register(program: Command) {
    program
      .command('predict')
      .description('predict every case of a folder (several runs = ensemble); writes <caseId>.nii.gz with labels 0/1/2/4')
      .requiredOption('--run <runs>', 'run folder(s), comma-separated for an ensemble')
      .requiredOption('--input <dir>', 'BraTS-layout folder of cases (seg not needed)')
      .requiredOption('--out <dir>', 'output folder')
      .option('--tta', '8-way mirroring test-time augmentation')
      .option('--step <f>', 'window step as a fraction of the patch', numberFlag('--step'), 0.5)
      .option('--no-postprocess', 'keep small ET (no ET -> NCR replacement)')
      .option('--et-min-voxels <n>', 'ET post-processing threshold', intFlag('--et-min-voxels'), 200)
      .option('--threshold <p>', 'region probability threshold', numberFlag('--threshold'), 0.5)
      .option('--backend <b>', 'auto | tensorflow | webgpu | native | cpu | wasm', 'auto')
      .option('--window-batch <n>', 'windows per network call', intFlag('--window-batch'), 1)
      .option('--precision <p>', 'inference convolutions: fp32 | bf16 (native backend on AVX512-BF16/AMX CPUs; refused elsewhere)', 'fp32')
      .option('--checkpoint <kind>', 'predict with a checkpoint (last | best | final) instead of the final model, e.g. of an unfinished run')
      .option('--report', 'also write PNG overlays and an index page to <out>/report/')
      .option('--json', 'print a JSON summary as the last line')
      .option('--dataset <name>', 'dataset plugin of --input (default: detected from the folder, else the run\'s)')
      .option('--plugin <module>', 'load a plugin module (npm name or .js/.mjs path); repeatable', collect)
      .option('--parts <P>', 'split the cases into P parts (sorted ids, part i takes every P-th from i, as nnU-Net); without --part: run all P parts with --executor', intFlag('--parts'))
      .option('--part <i>', 'predict only part i (0..P-1) of --parts P; cases whose output exists are skipped', intFlag('--part'))
      .option('--continue', 'skip cases whose prediction exists in --out (implied by --parts)')
      .option('--executor <name>', 'with --parts and no --part: local (this machine) | slurm (one job array)', 'local')
      .option('--parallel <n>', 'local executor: parts predicted at once, each in its own process (logs in <out>/logs/)', intFlag('--parallel'), 1)
      .option('--slurm-opt <option>', 'sbatch option for the jobs, repeatable (--slurm-opt=--partition=gpu --slurm-opt=--gres=gpu:1)', collect, [] as string[])
      .option('--wait', 'slurm: wait for every part; exit with the worst part status')
      .option('--dry-run', 'print the part commands (local) or the sbatch script (slurm) instead of running them')
      .action(async (flags: PredictFlags) => {
        const logger = createLogger();
        if (!(flags.step > 0 && flags.step <= 1)) throw new CliError(`--step: expected a number in (0, 1], got ${flags.step}`);
        if (!(flags.threshold > 0 && flags.threshold < 1)) throw new CliError(`--threshold: expected a number in (0, 1), got ${flags.threshold}`);
        if (flags.checkpoint !== undefined && !(CHECKPOINT_CHOICES as readonly string[]).includes(flags.checkpoint)) {
          throw new CliError(`--checkpoint: expected ${CHECKPOINT_CHOICES.join(' | ')}, got "${flags.checkpoint}"`);
        }
        if (flags.part !== undefined && flags.parts === undefined) throw new CliError('--part: needs --parts P (the number of parts)');
        if (flags.parts !== undefined) {
          if (flags.parts < 1) throw new CliError(`--parts: expected a positive integer, got ${flags.parts}`);
          if (flags.part !== undefined && (flags.part < 0 || flags.part >= flags.parts)) throw new CliError(`--part: expected an integer from 0 to ${flags.parts - 1} (--parts ${flags.parts}), got ${flags.part}`);
          if (flags.report) throw new CliError('--report: not available with --parts (each part would write its own index); run voxseg predict --report on the whole folder instead');
        }
        if (flags.executor !== 'local' && flags.executor !== 'slurm') throw new CliError(`--executor: expected local or slurm, got "${flags.executor}"`);
        if (flags.parallel < 1) throw new CliError(`--parallel: expected a positive integer, got ${flags.parallel}`);
        const precision = parsePrecisionFlag(flags.precision);
        if (flags.parts !== undefined && flags.part === undefined && (flags.executor === 'slurm' || flags.parallel > 1 || flags.dryRun)) {
          await dispatchParts(flags, logger);
          return;
        }
        const runs = flags.run.split(',').map((s) => s.trim()).filter(Boolean);
        await selectBackend(flags.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });
        applyPrecision(precision, tf.getBackend());
        if (precision !== 'fp32') logger.info(`precision: ${precision} inference convolutions`);
        const experiment = await createEngineExperimentFrom(flags.plugin ?? []);
        const reportRows: { id: string; png: string; et: boolean }[] = [];
        const skipExisting = Boolean(flags.continue) || flags.parts !== undefined;
        const { files: written, models, skipped } = await predictFolder({
          ...cliHost(logger),
          experiment,
          runs,
          input: flags.input,
          out: flags.out,
          ...(flags.dataset ? { dataset: flags.dataset } : {}),
          ...(flags.part !== undefined ? { parts: { count: flags.parts!, index: flags.part } } : {}),
          skipExisting,
          ...(flags.checkpoint ? { checkpoint: flags.checkpoint as CheckpointChoice } : {}),
          // Ctrl-C: the output folder's lock is released, then exit 130 (there is nothing to save).
          onSigint: () => process.exit(130),
          inference: {
            step: flags.step,
            tta: flags.tta ?? false,
            threshold: flags.threshold,
            windowBatchSize: flags.windowBatch,
            postprocess: flags.postprocess ? { minVoxels: flags.etMinVoxels } : false,
            precision,
          },
          onCase: async (data, pred) => {
            if (!flags.report) return;
            const png = path.join(flags.out, 'report', `${data.meta.id}.png`);
            const [d, h, w, C] = data.shape;
            const channels = splitChannels(data.image, [d, h, w], C).map((ch, i) => ({ name: data.meta.modalities[i] ?? `c${i}`, data: ch }));
            await writeFileAtomic(png, renderCaseOverlay({ channels, shape: [d, h, w], label: pred.croppedLabels, ...(data.label ? { reference: data.label } : {}) }), { mkdir: true });
            reportRows.push({ id: data.meta.id, png: path.basename(png), et: pred.postprocessed });
          },
        });
        const cases = written;
        if (flags.report) {
          const body = `<p>${cases.length} case(s), runs: ${runs.map(esc).join(', ')}${flags.tta ? ', TTA' : ''}. Columns: ${esc('t1, t1ce, t2, flair with the prediction')}${' '}(and the reference when the case has one, last column). NCR red, ED green, ET yellow.</p>` +
            reportRows.map((r) => `<h2>${esc(r.id)}${r.et ? ' <small>(small ET relabelled NCR)</small>' : ''}</h2><div class="grid"><img src="${esc(r.png)}" alt="${esc(r.id)}"></div>`).join('\n');
          await writeFileAtomic(path.join(flags.out, 'report', 'index.html'), page('voxseg predictions', body), { mkdir: true });
          logger.info(`report: ${path.join(flags.out, 'report', 'index.html')}`);
        }
        logger.info(`wrote ${written.length} prediction(s) to ${flags.out}`);
        if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, cases: written.length, models: models.length, ...(skipExisting ? { skipped: skipped.length } : {}) }) + '\n');
      });
  },
};

/** The predict arguments every part shares (paths absolute: parts may run elsewhere). */
function partArgs(flags: PredictFlags, part: number): string[] {
  const runs = flags.run.split(',').map((s) => path.resolve(s.trim())).filter(Boolean);
  return [
    'predict', '--run', runs.join(','), '--input', path.resolve(flags.input), '--out', path.resolve(flags.out),
    '--parts', String(flags.parts), '--part', String(part),
    '--step', String(flags.step), '--threshold', String(flags.threshold), '--et-min-voxels', String(flags.etMinVoxels),
    '--backend', flags.backend, '--window-batch', String(flags.windowBatch), '--precision', flags.precision,
    ...(flags.tta ? ['--tta'] : []),
    ...(flags.postprocess ? [] : ['--no-postprocess']),
    ...(flags.dataset ? ['--dataset', flags.dataset] : []),
    ...(flags.checkpoint ? ['--checkpoint', flags.checkpoint] : []),
    ...(flags.plugin ?? []).flatMap((p) => ['--plugin', p.startsWith('.') || path.isAbsolute(p) || /\.(m?js|cjs)$/.test(p) ? path.resolve(p) : p]),
  ];
}

/** `--parts P` without `--part`: every part as a task of the local pool or of one Slurm job array. */
async function dispatchParts(flags: PredictFlags, logger: Logger): Promise<void> {
  const parts = flags.parts!;
  const out = path.resolve(flags.out);
  const tasks: ExecutorTask[] = Array.from({ length: parts }, (_, i) => ({ name: `part ${i}/${parts}`, args: partArgs(flags, i) }));
  if (flags.executor === 'slurm') {
    const plan: SlurmPlan = { jobName: 'voxseg-predict', tasks, command: voxsegCommand(), slurmDir: path.join(out, 'slurm'), slurmOpts: flags.slurmOpt, signalSeconds: 0, chdir: process.cwd() };
    if (flags.dryRun) {
      process.stdout.write(renderSlurmPlan(plan));
      return;
    }
    const sub = await submitSlurm(plan);
    for (const line of watchHints(sub)) logger.info(line);
    if (!flags.wait) {
      process.stdout.write(JSON.stringify({ arrayJobId: sub.arrayJobId, tasks: tasks.map((t) => t.name) }) + '\n');
      return;
    }
    const outcome = await waitSlurm(sub, { onEvent: (e) => logger.info(describeSlurmEvent(e)) });
    failOnParts(outcome.tasks, logger);
    logger.info(`${parts} part(s) done: predictions in ${out}`);
    if (flags.json) process.stdout.write(JSON.stringify({ out, parts, arrayJobId: sub.arrayJobId }) + '\n');
    return;
  }
  if (flags.dryRun) {
    for (const t of tasks) process.stdout.write(`# ${t.name}\nvoxseg ${t.args.join(' ')}\n`);
    return;
  }
  const results = await runLocal(tasks, {
    command: voxsegCommand(),
    parallel: flags.parallel,
    logDir: path.join(out, 'logs'),
    onTaskStart: (t, log) => logger.info(`${t.name}: predicting (log: ${log})`),
  });
  failOnParts(results, logger);
  logger.info(`${parts} part(s) done: predictions in ${out}`);
  if (flags.json) process.stdout.write(JSON.stringify({ out, parts }) + '\n');
}

function failOnParts(results: readonly TaskResult[], logger: Logger): void {
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length === 0) return;
  for (const r of failed) logger.error(describeFailure(r));
  throw new CliError(`predict: ${failed.length} of ${results.length} part(s) failed (first: ${describeFailure(failed[0]!)}); rerun the same command: finished cases are skipped`, worstExitCode(results));
}

