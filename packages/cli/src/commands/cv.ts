import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type EvaluationResult, formatEvaluationTable, meanMetrics, type RegionMetrics } from '../pipeline/evaluation.js';
import { resolveTrainConfig } from '../pipeline/train-config.js';
import { addTrainOptions, givenTrainFlags, type TrainFlags, trainFlagsToConfig } from '../pipeline/train-options.js';
import { lockRunFolder } from '../pipeline/run-folder.js';
import { trainRun } from '../pipeline/train-run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { createLogger } from '../util/logger.js';
import { interruptedError } from './train.js';
import { startRunDashboard } from './dashboard.js';
import { CliError, type CommandModule } from './types.js';

/** `voxseg cv`: the 5 folds in sequence (resumable), then cross-validation metrics over all cases. */
export const cvCommand: CommandModule = {
  name: 'cv',
  register(program: Command) {
    const cmd = program
      .command('cv')
      .description('5-fold cross-validation: trains every fold into <out>/fold_<k> (resumable), then aggregates metrics')
      .requiredOption('--data <dir>', 'BraTS-layout data folder')
      .requiredOption('--out <dir>', 'folder for the folds');
    addTrainOptions(cmd)
      .option('--json', 'print the aggregated JSON as the last line')
      .option('--dashboard', 'serve the folds live in the dashboard while they train (prints the URL)')
      .action(async (flags: TrainFlags & { json?: boolean; dashboard?: boolean }, cmd: Command) => {
        const logger = createLogger();
        const base = { ...trainFlagsToConfig(flags), out: undefined };
        const given = { ...givenTrainFlags(base, cmd), out: undefined };
        const out = flags.out as string;
        const folds = resolveTrainConfig(base, { out }).folds;
        // The cv folder is locked for the whole run (each fold folder too, by its training).
        const lock = lockRunFolder(out, { command: 'cv', logger });
        const closeDashboard = flags.dashboard ? await startRunDashboard(out, 'group', logger).catch((err: unknown) => {
          lock.release();
          throw err;
        }) : undefined;
        try {
          const all: Record<string, RegionMetrics> = {};
          for (let k = 0; k < folds; k++) {
            const foldDir = path.join(out, `fold_${k}`);
            const metricsFile = path.join(foldDir, 'metrics.json');
            const done = await fs.readFile(metricsFile, 'utf8').then((t) => JSON.parse(t) as EvaluationResult, () => null);
            if (!done) {
              const started = await fs.stat(path.join(foldDir, 'config.json')).then(() => true, () => false);
              logger.info(`fold ${k + 1}/${folds}: ${started ? 'resuming' : 'training'} in ${foldDir}`);
              const config = resolveTrainConfig(base, { out: foldDir, fold: k });
              const r = await trainRun(config, { resume: started, given: { ...given, out: foldDir, fold: k }, logger });
              if (r.interrupted) throw interruptedError(foldDir, r.summary.epochsCompleted);
              if (r.summary.reason !== 'completed') throw new CliError(`fold ${k}: run ${r.summary.reason}; rerun voxseg cv to resume`);
            } else {
              logger.info(`fold ${k + 1}/${folds}: done (${metricsFile})`);
            }
            const metrics = JSON.parse(await fs.readFile(metricsFile, 'utf8')) as EvaluationResult;
            Object.assign(all, metrics.cases);
          }
          const result = { cases: all, mean: meanMetrics(all) };
          await writeFileAtomic(path.join(out, 'metrics.json'), JSON.stringify(result, null, 2) + '\n');
          process.stdout.write(formatEvaluationTable(result) + '\n');
          logger.info(`cross-validation over ${Object.keys(all).length} cases: ${path.join(out, 'metrics.json')}`);
          if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        } finally {
          lock.release();
          await closeDashboard?.();
        }
      });
  },
};
