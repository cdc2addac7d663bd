import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type CaseData, selectBackend, splitChannels } from '@voxseg/core';
import { BratsDataset, type NiftiHeader, discoverCases, formatProblem, validateCases, writeNifti } from '@voxseg/plugin-data-brats';
import { predictCase } from '../pipeline/predict-case.js';
import { loadRunModels } from '../pipeline/load-runs.js';
import { intFlag, numberFlag } from '../pipeline/train-config.js';
import { assertWritable } from '../pipeline/run-folder.js';
import { esc, page, renderCaseOverlay } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ensureDir } from '@voxseg/core';
import { describeFailure, type ExecutorTask, type TaskResult, worstExitCode } from '../executors/task.js';
import { runLocal } from '../executors/local-executor.js';
import { describeSlurmEvent } from '../executors/report-outcome.js';
import { shardCases } from '../executors/shard-cases.js';
import { SlurmError } from '../executors/slurm/slurm-commands.js';
import { renderSlurmPlan, type SlurmPlan, submitSlurm, waitSlurm, watchHints } from '../executors/slurm/slurm-executor.js';
import { createLogger, type Logger } from '../util/logger.js';
import { voxsegCommand } from '../util/voxseg-command.js';
import { createProgress } from '../util/progress.js';
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
  parts?: number;
  part?: number;
  continue?: boolean;
  executor: string;
  parallel: number;
  slurmOpt: string[];
  wait?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

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
      .option('--backend <b>', 'auto | native | cpu | wasm | tensorflow', 'auto')
      .option('--window-batch <n>', 'windows per network call', intFlag('--window-batch'), 1)
      .option('--report', 'also write PNG overlays and an index page to <out>/report/')
      .option('--json', 'print a JSON summary as the last line')
      .option('--parts <P>', 'split the cases into P parts (sorted ids, part i takes every P-th from i, as nnU-Net); without --part: run all P parts with --executor', intFlag('--parts'))
      .option('--part <i>', 'predict only part i (0..P-1) of --parts P; cases whose output exists are skipped', intFlag('--part'))
      .option('--continue', 'skip cases whose <out>/<caseId>.nii.gz exists (implied by --parts)')
      .option('--executor <name>', 'with --parts and no --part: local (this machine) | slurm (one job array)', 'local')
      .option('--parallel <n>', 'local executor: parts predicted at once, each in its own process (logs in <out>/logs/)', intFlag('--parallel'), 1)
      .option('--slurm-opt <option>', 'sbatch option for the jobs, repeatable (--slurm-opt=--partition=gpu --slurm-opt=--gres=gpu:1)', collect, [] as string[])
      .option('--wait', 'slurm: wait for every part; exit with the worst part status')
      .option('--dry-run', 'print the part commands (local) or the sbatch script (slurm) instead of running them')
      .action(async (flags: PredictFlags) => {
        const logger = createLogger();
        if (!(flags.step > 0 && flags.step <= 1)) throw new CliError(`--step: expected a number in (0, 1], got ${flags.step}`);
        if (!(flags.threshold > 0 && flags.threshold < 1)) throw new CliError(`--threshold: expected a number in (0, 1), got ${flags.threshold}`);
        if (flags.part !== undefined && flags.parts === undefined) throw new CliError('--part: needs --parts P (the number of parts)');
        if (flags.parts !== undefined) {
          if (flags.parts < 1) throw new CliError(`--parts: expected a positive integer, got ${flags.parts}`);
          if (flags.part !== undefined && (flags.part < 0 || flags.part >= flags.parts)) throw new CliError(`--part: expected an integer from 0 to ${flags.parts - 1} (--parts ${flags.parts}), got ${flags.part}`);
          if (flags.report) throw new CliError('--report: not available with --parts (each part would write its own index); run voxseg predict --report on the whole folder instead');
        }
        if (flags.executor !== 'local' && flags.executor !== 'slurm') throw new CliError(`--executor: expected local or slurm, got "${flags.executor}"`);
        if (flags.parts !== undefined && flags.part === undefined && (flags.executor === 'slurm' || flags.parallel > 1 || flags.dryRun)) {
          await dispatchParts(flags, logger);
          return;
        }
        const runs = flags.run.split(',').map((s) => s.trim()).filter(Boolean);
        await selectBackend(flags.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });
        const models = await loadRunModels(runs);

        const all = await discoverCases(flags.input).catch((err: Error) => {
          throw new CliError(`--input: ${err.message}; see voxseg check --data ${flags.input}`);
        });
        if (all.length === 0) throw new CliError(`--input ${flags.input}: no BraTS cases found (expected <id>/<id>_{t1,t1ce,t2,flair}.nii.gz); see voxseg check --data ${flags.input}`);
        const cases = flags.part !== undefined ? shardCases(all, flags.parts!, flags.part) : all;
        if (flags.part !== undefined) logger.info(`part ${flags.part} of ${flags.parts}: ${cases.length} of ${all.length} case(s)`);
        const report = await validateCases(flags.input, cases);
        if (report.problems.length) {
          const p = report.problems[0]!;
          throw new CliError(`--input ${flags.input}: ${report.invalidCaseIds.length} invalid case(s), first: ${formatProblem(p)}; run voxseg check --data ${flags.input}`);
        }
        const dataset = new BratsDataset({ root: flags.input, cacheDir: false });
        if (dataset.inChannels !== models[0]!.inChannels) {
          throw new CliError(`--run ${models[0]!.run}: the model takes ${models[0]!.inChannels} input channels but ${flags.input} has ${dataset.inChannels} modalities`);
        }
        await ensureDir(flags.out).catch((err: NodeJS.ErrnoException) => {
          throw new CliError(`--out ${flags.out}: cannot create (${err.code ?? err.message})`);
        });
        await assertWritable(flags.out);

        logger.info(`predicting ${cases.length} case(s) with ${models.length} model(s)${flags.tta ? ', mirroring TTA' : ''}, step ${flags.step}`);
        const bar = createProgress({ label: 'predict', total: cases.length, unit: 'cases' });
        const written: string[] = [];
        const skipped: string[] = [];
        const skipExisting = flags.continue || flags.parts !== undefined;
        const reportRows: { id: string; png: string; et: boolean }[] = [];
        try {
          for (const c of cases) {
            if (skipExisting && (await fileExists(path.join(flags.out, `${c.id}.nii.gz`)))) {
              skipped.push(c.id);
              bar.increment(1, `${c.id} (exists)`);
              continue;
            }
            const data: CaseData = await dataset.loadCase(c.id);
            const pred = await predictCase(models, data, {
              step: flags.step,
              tta: flags.tta ?? false,
              etMinVoxels: flags.postprocess ? flags.etMinVoxels : 0,
              threshold: flags.threshold,
              windowBatchSize: flags.windowBatch,
              // Window progress of the current case, shown in the case bar's status.
              onProgress: (m, p) => bar.update(written.length, `${c.id} model ${m + 1}/${models.length} windows ${p.done}/${p.total}`),
            });
            const file = path.join(flags.out, `${c.id}.nii.gz`);
            await writeNifti(file, pred.labels, { reference: data.meta.header as NiftiHeader, datatype: 'uint8' });
            written.push(file);
            if (flags.report) {
              const png = path.join(flags.out, 'report', `${c.id}.png`);
              const [d, h, w, C] = data.shape;
              const channels = splitChannels(data.image, [d, h, w], C).map((ch, i) => ({ name: data.meta.modalities[i] ?? `c${i}`, data: ch }));
              await writeFileAtomic(png, renderCaseOverlay({ channels, shape: [d, h, w], label: pred.croppedLabels, ...(data.label ? { reference: data.label } : {}) }));
              reportRows.push({ id: c.id, png: path.basename(png), et: pred.etReplaced });
            }
            bar.increment(1, c.id);
          }
        } finally {
          bar.stop();
          for (const m of models) m.model.dispose();
        }
        if (flags.report) {
          const body = `<p>${cases.length} case(s), runs: ${runs.map(esc).join(', ')}${flags.tta ? ', TTA' : ''}. Columns: ${esc('t1, t1ce, t2, flair with the prediction')}${' '}(and the reference when the case has one, last column). NCR red, ED green, ET yellow.</p>` +
            reportRows.map((r) => `<h2>${esc(r.id)}${r.et ? ' <small>(small ET relabelled NCR)</small>' : ''}</h2><div class="grid"><img src="${esc(r.png)}" alt="${esc(r.id)}"></div>`).join('\n');
          await writeFileAtomic(path.join(flags.out, 'report', 'index.html'), page('voxseg predictions', body));
          logger.info(`report: ${path.join(flags.out, 'report', 'index.html')}`);
        }
        logger.info(`wrote ${written.length} prediction(s) to ${flags.out}${skipped.length ? ` (${skipped.length} already there, skipped)` : ''}`);
        if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, cases: written.length, models: models.length, ...(skipExisting ? { skipped: skipped.length } : {}) }) + '\n');
      });
  },
};

async function fileExists(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/** The predict arguments every part shares (paths absolute: parts may run elsewhere). */
function partArgs(flags: PredictFlags, part: number): string[] {
  const runs = flags.run.split(',').map((s) => path.resolve(s.trim())).filter(Boolean);
  return [
    'predict', '--run', runs.join(','), '--input', path.resolve(flags.input), '--out', path.resolve(flags.out),
    '--parts', String(flags.parts), '--part', String(part),
    '--step', String(flags.step), '--threshold', String(flags.threshold), '--et-min-voxels', String(flags.etMinVoxels),
    '--backend', flags.backend, '--window-batch', String(flags.windowBatch),
    ...(flags.tta ? ['--tta'] : []),
    ...(flags.postprocess ? [] : ['--no-postprocess']),
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
    const sub = await submitSlurm(plan).catch(slurmToCli);
    for (const line of watchHints(sub)) logger.info(line);
    if (!flags.wait) {
      process.stdout.write(JSON.stringify({ arrayJobId: sub.arrayJobId, tasks: tasks.map((t) => t.name) }) + '\n');
      return;
    }
    const outcome = await waitSlurm(sub, { onEvent: (e) => logger.info(describeSlurmEvent(e)) }).catch(slurmToCli);
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

function slurmToCli(err: unknown): never {
  if (err instanceof SlurmError) throw new CliError(err.message);
  throw err;
}
