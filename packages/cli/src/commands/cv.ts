import path from 'node:path';
import type { Command } from 'commander';
import { crossValidate } from '@voxseg/engine';
import { cliHost } from '../options/engine-host.js';
import { addTrainOptions, resolveTrainFlags, type TrainFlags } from '../options/train-options.js';
import { formatEvaluationTable } from '../report/evaluation-table.js';
import { writeRunReport } from '../report/index.js';
import { createLogger } from '../util/logger.js';
import { reportTrainingProgress } from '../util/training-progress.js';
import { startRunDashboard } from './dashboard.js';
import { interruptedError } from './train.js';
import type { CommandModule } from './types.js';

/** `voxseg cv`: every fold in sequence (resumable), then cross-validation metrics over all cases. */
export const cvCommand: CommandModule = {
  name: 'cv',
  register(program: Command) {
    const cmd = program
      .command('cv')
      .description('5-fold cross-validation: trains every fold into <out>/fold_<k> (resumable), then aggregates metrics')
      .requiredOption('--data <dir>', 'data folder (its dataset plugin is detected, or named in the config)')
      .requiredOption('--out <dir>', 'folder for the folds');
    addTrainOptions(cmd)
      .option('--json', 'print the aggregated JSON as the last line')
      .option('--dashboard', 'serve the folds live in the dashboard while they train (prints the URL)')
      .action(async (flags: TrainFlags & { json?: boolean; dashboard?: boolean }) => {
        const logger = createLogger();
        const out = flags.out as string;
        const { config, given } = await resolveTrainFlags({ ...flags, out: undefined });
        const closeDashboard = flags.dashboard ? await startRunDashboard(out, 'group', logger) : undefined;
        try {
          const result = await crossValidate(config, {
            ...cliHost(logger),
            out,
            given,
            onEvents: (events$) => void reportTrainingProgress(events$, { logger }),
          });
          if (result.interrupted) throw interruptedError(result.interrupted.run, result.interrupted.epochsCompleted);
          for (let k = 0; k < config.training.folds; k++) await writeRunReport(path.join(out, `fold_${k}`)).catch(() => undefined);
          process.stdout.write(formatEvaluationTable(result) + '\n');
          logger.info(`cross-validation over ${Object.keys(result.cases).length} cases: ${path.join(out, 'metrics.json')}`);
          if (flags.json) process.stdout.write(JSON.stringify({ cases: result.cases, mean: result.mean }) + '\n');
        } finally {
          await closeDashboard?.();
        }
      });
  },
};
