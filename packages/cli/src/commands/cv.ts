import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '@voxseg/core';
import {
  crossValidate,
  describeFailure,
  describeSlurmEvent,
  EXIT_TIME_LIMIT,
  type EvaluationResult,
  type ExecutorTask,
  meanMetrics,
  type RegionMetrics,
  renderSlurmPlan,
  runLocal,
  type SlurmPlan,
  submitSlurm,
  type TaskResult,
  TIME_LIMIT_REASON,
  type TrainRunOptions,
  waitSlurm,
  watchHints,
  worstExitCode,
} from '@voxseg/engine';
import { cliHost } from '../options/engine-host.js';
import { collect, intFlag } from '../options/flags.js';
import { addTrainOptions, resolveTrainFlags, type TrainFlags, trainFlagsToArgs } from '../options/train-options.js';
import { formatEvaluationTable } from '../report/evaluation-table.js';
import { esc, page, writeRunReport } from '../report/index.js';
import { createLogger, type Logger } from '../util/logger.js';
import { reportTrainingProgress } from '../util/training-progress.js';
import { voxsegCommand } from '../util/voxseg-command.js';
import { startRunDashboard } from './dashboard.js';
import { interruptedError } from './train.js';
import { CliError, type CommandModule } from './types.js';

interface CvFlags extends TrainFlags {
  json?: boolean;
  variants?: string;
  executor: string;
  parallel: number;
  slurmOpt: string[];
  slurmSignal: number;
  wait?: boolean;
  dryRun?: boolean;
  aggregateOnly?: boolean;
  dashboard?: boolean;
}

/** One fold of one variant: where it trains. */
interface FoldRun {
  variant: string;
  fold: number;
  dir: string;
  /** `<variant>/fold_<k>` (or `fold_<k>` with one variant). */
  name: string;
}

/**
 * `voxseg cv`: every fold of one or several variants, then cross-validation metrics. Folds
 * run in this process one after the other (the default), as a local process pool
 * (`--parallel N`), or as one Slurm job array (`--executor slurm`) followed by a dependent
 * aggregation job. Folds whose `metrics.json` exists are done and skipped, so rerunning the
 * same command continues an interrupted or partly failed cross-validation.
 */
export const cvCommand: CommandModule = {
  name: 'cv',
  register(program: Command) {
    const cmd = program
      .command('cv')
      .description('5-fold cross-validation: trains every fold into <out>/fold_<k> (or <out>/<variant>/fold_<k> with --variants; resumable), then aggregates metrics')
      .requiredOption('--data <dir>', 'data folder (its dataset plugin is detected, or named in the config)')
      .requiredOption('--out <dir>', 'folder for the folds');
    addTrainOptions(cmd)
      .option('--variants <list>', 'several presets, comma-separated (e.g. BL,BL+L+GN): folds x variants, each variant in <out>/<variant>/')
      .option('--executor <name>', 'local (this machine) | slurm (one job array, then an aggregation job)', 'local')
      .option('--parallel <n>', 'local executor: folds trained at once, each in its own process (logs in <out>/logs/)', intFlag('--parallel'), 1)
      .option('--slurm-opt <option>', 'sbatch option for the jobs, repeatable (--slurm-opt=--partition=gpu --slurm-opt=--gres=gpu:1 --slurm-opt=--time=24:00:00)', collect, [] as string[])
      .option('--slurm-signal <s>', 'seconds before the time limit at which tasks checkpoint and requeue (--signal=B:USR1@<s>; 0 = off)', intFlag('--slurm-signal'), 600)
      .option('--wait', 'slurm: wait for every task and the aggregation; exit with the worst task status')
      .option('--dry-run', 'print the tasks (local) or the sbatch scripts (slurm) instead of running them')
      .option('--aggregate-only', 'only aggregate the folds already trained (the Slurm aggregation job runs this)')
      .option('--json', 'print the aggregated JSON as the last line')
      .option('--dashboard', 'serve the folds live in the dashboard while they train (prints the URL)')
      .action(async (flags: CvFlags) => {
        const logger = createLogger();
        const out = path.resolve(flags.out as string);
        // Without --variants/--variant the network is the config's (--config, else BL): tasks then name none.
        const { config: base } = await resolveTrainFlags({ ...flags, out: undefined });
        const variants = flags.variants ? flags.variants.split(',').map((v) => v.trim()).filter(Boolean) : [flags.variant ?? base.network.name];
        const namedVariant = Boolean(flags.variants || flags.variant);
        if (variants.length === 0) throw new CliError(`--variants: expected a comma-separated list of presets, got "${flags.variants}"`);
        if (flags.variants && flags.variant) throw new CliError('--variant and --variants: give one of them');
        if (new Set(variants).size !== variants.length) throw new CliError(`--variants ${flags.variants}: a variant is listed twice`);
        if (flags.executor !== 'local' && flags.executor !== 'slurm') throw new CliError(`--executor: expected local or slurm, got "${flags.executor}"`);
        if (flags.parallel < 1) throw new CliError(`--parallel: expected a positive integer, got ${flags.parallel}`);
        const perVariant = Boolean(flags.variants);
        const folds = base.training.folds;
        const runs: FoldRun[] = variants.flatMap((variant) =>
          Array.from({ length: folds }, (_, fold) => {
            const dir = perVariant ? path.join(out, variant, `fold_${fold}`) : path.join(out, `fold_${fold}`);
            return { variant, fold, dir, name: perVariant ? `${variant}/fold_${fold}` : `fold_${fold}` };
          }),
        );

        const closeDashboard = flags.dashboard && !flags.dryRun && !flags.aggregateOnly ? await startRunDashboard(out, 'group', logger) : undefined;
        try {
          if (!flags.aggregateOnly) {
            const todo: FoldRun[] = [];
            for (const r of runs) {
              if (await exists(path.join(r.dir, 'metrics.json'))) logger.info(`${r.name}: done (${path.join(r.dir, 'metrics.json')})`);
              else todo.push(r);
            }
            const tasks = todo.map((r) => foldTask(r, flags, namedVariant));
            if (flags.executor === 'slurm') {
              const plan: SlurmPlan = {
                jobName: 'voxseg-cv',
                tasks,
                after: { name: 'aggregate', args: ['cv', ...aggregateArgs(flags, out)] },
                command: voxsegCommand(),
                slurmDir: path.join(out, 'slurm'),
                slurmOpts: flags.slurmOpt,
                signalSeconds: flags.slurmSignal,
                chdir: process.cwd(),
              };
              if (tasks.length === 0) logger.info('every fold is done: aggregating here');
              else if (flags.dryRun) {
                process.stdout.write(renderSlurmPlan(plan));
                return;
              } else {
                const sub = await submitSlurm(plan);
                for (const line of watchHints(sub)) logger.info(line);
                if (!flags.wait) {
                  process.stdout.write(JSON.stringify({ arrayJobId: sub.arrayJobId, aggregateJobId: sub.afterJobId, tasks: tasks.map((t) => t.name) }) + '\n');
                  return;
                }
                const outcome = await waitSlurm(sub, { onEvent: (e) => logger.info(describeSlurmEvent(e)) });
                failIfAny(outcome.tasks, logger);
                if (outcome.after && outcome.after.code !== 0) throw new CliError(describeFailure(outcome.after), Math.max(1, outcome.after.code));
                // The aggregation job wrote the metrics: print them as the local path does.
              }
            } else if (flags.dryRun) {
              for (const t of tasks) process.stdout.write(`# ${t.name}\nvoxseg ${t.args.join(' ')}\n`);
              return;
            } else if (flags.parallel > 1 && tasks.length > 1) {
              logger.info(`training ${tasks.length} fold(s), ${flags.parallel} at a time; logs in ${path.join(out, 'logs')}`);
              const results = await runLocal(tasks, {
                command: voxsegCommand(),
                parallel: flags.parallel,
                logDir: path.join(out, 'logs'),
                onTaskStart: (t, log) => logger.info(`${t.name}: training (log: ${log})`),
                onTaskEnd: (r) => logger.info(`${r.name}: ${r.code === 0 ? 'done' : `status ${r.code}`}`),
              });
              failIfAny(results, logger);
            } else {
              for (const variant of variants) {
                if (!todo.some((r) => r.variant === variant)) continue;
                await trainInProcess(flags, namedVariant ? variant : undefined, perVariant ? path.join(out, variant) : out, logger);
                for (const r of runs.filter((x) => x.variant === variant)) await writeRunReport(r.dir).catch(() => undefined);
              }
            }
          }

          const result = await aggregate(out, variants, runs, perVariant);
          process.stdout.write(formatEvaluationTable(result) + '\n');
          logger.info(`cross-validation over ${Object.keys(result.cases).length} cases: ${perVariant ? path.join(out, 'summary.json') : path.join(out, 'metrics.json')}`);
          if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        } finally {
          await closeDashboard?.();
        }
      });
  },
};

/** The `voxseg train` task of one fold (continued with --resume when its folder holds a run). */
function foldTask(r: FoldRun, flags: CvFlags, namedVariant: boolean): ExecutorTask {
  return {
    name: r.name,
    args: ['train', '--data', path.resolve(flags.data as string), '--out', r.dir, '--fold', String(r.fold), ...(namedVariant ? ['--variant', r.variant] : []), ...trainFlagsToArgs(flags)],
    resumeRun: r.dir,
  };
}

/** Arguments of the aggregation job: this cv, aggregating only. */
function aggregateArgs(flags: CvFlags, out: string): string[] {
  return [
    '--data', path.resolve(flags.data as string),
    '--out', out,
    ...(flags.variants ? ['--variants', flags.variants] : flags.variant ? ['--variant', flags.variant] : []),
    ...(flags.folds !== undefined ? ['--folds', String(flags.folds)] : []),
    ...(flags.config ? ['--config', path.resolve(flags.config)] : []),
    '--aggregate-only',
  ];
}

/** The folds of one variant in this process, one after the other (engine's crossValidate). */
async function trainInProcess(flags: CvFlags, variant: string | undefined, dir: string, logger: Logger): Promise<void> {
  const { config, given } = await resolveTrainFlags({ ...flags, out: undefined, variant });
  // A fold stopped by the time-limit signal ends this cv with status 3, as voxseg train does.
  let timeLimit = false;
  const onEvents: NonNullable<TrainRunOptions['onEvents']> = (events$) => {
    reportTrainingProgress(events$, { logger });
    events$.subscribe((e) => {
      if (e.type === 'runEnd' && e.reason === 'stopped' && e.message === TIME_LIMIT_REASON) timeLimit = true;
    });
  };
  let result;
  try {
    result = await crossValidate(config, { ...cliHost(logger), out: dir, given, onEvents });
  } catch (err) {
    if (timeLimit) throw new CliError(`${dir}: a fold stopped at the time-limit signal (SIGUSR1) with its checkpoint saved; rerun the same voxseg cv to continue`, EXIT_TIME_LIMIT);
    throw err;
  }
  if (result.interrupted) throw interruptedError(result.interrupted.run, result.interrupted.epochsCompleted);
}

/** One line per failed task, then a one-line error with the worst status. */
function failIfAny(results: readonly TaskResult[], logger: Logger): void {
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length === 0) return;
  for (const r of failed) logger.error(describeFailure(r));
  const first = failed[0]!;
  throw new CliError(
    `cv: ${failed.length} of ${results.length} task(s) did not finish (first: ${describeFailure(first)}); the others are kept: rerun the same command to run only what is not finished`,
    worstExitCode(results),
  );
}

/**
 * Cross-validation metrics over every case: per variant `<variant>/metrics.json` (or
 * `metrics.json` with one variant), and with several variants `summary.json` (the means
 * side by side) and `report.html`. Returns the metrics of the first variant, or with several
 * variants `{cases, mean}` keyed `<variant>/<case>`.
 */
async function aggregate(out: string, variants: string[], runs: FoldRun[], perVariant: boolean): Promise<EvaluationResult> {
  const byVariant: Record<string, EvaluationResult> = {};
  for (const variant of variants) {
    const cases: Record<string, RegionMetrics> = {};
    for (const r of runs.filter((x) => x.variant === variant)) {
      const file = path.join(r.dir, 'metrics.json');
      const text = await fs.readFile(file, 'utf8').catch(() => null);
      if (text === null) throw new CliError(`${file}: missing; ${r.name} has not finished (rerun voxseg cv without --aggregate-only to train it)`);
      Object.assign(cases, (JSON.parse(text) as EvaluationResult).cases);
    }
    byVariant[variant] = { cases, mean: meanMetrics(cases) };
    const file = perVariant ? path.join(out, variant, 'metrics.json') : path.join(out, 'metrics.json');
    await writeFileAtomic(file, JSON.stringify(byVariant[variant], null, 2) + '\n', { mkdir: true });
  }
  if (!perVariant) return byVariant[variants[0]!]!;
  const summary = { variants: Object.fromEntries(variants.map((v) => [v, { cases: Object.keys(byVariant[v]!.cases).length, mean: byVariant[v]!.mean }])) };
  await writeFileAtomic(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', { mkdir: true });
  await writeFileAtomic(path.join(out, 'report.html'), summaryPage(summary.variants), { mkdir: true });
  const cases: Record<string, RegionMetrics> = {};
  for (const v of variants) for (const [id, m] of Object.entries(byVariant[v]!.cases)) cases[`${v}/${id}`] = m;
  return { cases, mean: meanMetrics(cases) };
}

function summaryPage(variants: Record<string, { cases: number; mean: RegionMetrics }>): string {
  const regions = Object.keys(Object.values(variants)[0]?.mean ?? {});
  const head = `<tr><th>variant</th><th>cases</th>${regions.map((r) => `<th>${esc(r)} Dice</th><th>${esc(r)} HD95</th>`).join('')}</tr>`;
  const rows = Object.entries(variants)
    .map(([v, s]) => `<tr><td><a href="${esc(encodeURI(v))}/metrics.json">${esc(v)}</a></td><td>${s.cases}</td>${regions.map((r) => `<td>${s.mean[r]!.dice.toFixed(4)}</td><td>${s.mean[r]!.hd95.toFixed(2)}</td>`).join('')}</tr>`)
    .join('\n');
  return page('voxseg cross-validation', `<p>Mean over every case of every fold, per variant (each fold's run folder holds its curves and report).</p><table>${head}\n${rows}</table>`);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}
