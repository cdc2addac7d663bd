import type { Command } from 'commander';
import { trainRun } from '@voxseg/engine';
import { intFlag } from '../options/flags.js';
import { cliHost } from '../options/engine-host.js';
import { addTrainOptions, resolveTrainFlags, type TrainFlags } from '../options/train-options.js';
import { writeRunReport } from '../report/index.js';
import { createLogger } from '../util/logger.js';
import { reportTrainingProgress } from '../util/training-progress.js';
import { startRunDashboard } from './dashboard.js';
import { CliError, type CommandModule } from './types.js';

/** `voxseg train`: one fold, every part named by the experiment config (`--config`) and the flags. */
export const trainCommand: CommandModule = {
  name: 'train',
  register(program: Command) {
    const cmd = program
      .command('train')
      .description('train one fold (nnU-Net recipe; defaults are the full BraTS 2021 schedule)')
      .option('--data <dir>', 'data folder (its dataset plugin is detected, or named in the config)')
      .option('--out <run>', 'run folder to create (or continue with --resume)')
      .option('--fold <k>', 'fold 0-4 of the 5-fold split (default 0)', intFlag('--fold'));
    addTrainOptions(cmd)
      .option('--resume', 'continue the run in --out from its last checkpoint, with its saved settings (flags given change them; see --force)')
      .option('--force', 'start over in an --out that holds a run (the old one is moved aside); with --resume: accept changed settings')
      .option('--json', 'print a JSON summary as the last line')
      .option('--dashboard', 'serve the run live in the dashboard while it trains (prints the URL)')
      .action(async (flags: TrainFlags & { resume?: boolean; force?: boolean; json?: boolean; dashboard?: boolean }) => {
        const logger = createLogger();
        if (!flags.out) throw new CliError('--out RUN is required');
        const { config, given } = await resolveTrainFlags(flags);
        if (!config.dataset.options.root && !flags.resume) throw new CliError('--data DIR is required');
        const closeDashboard = flags.dashboard ? await startRunDashboard(flags.out, 'run', logger) : undefined;
        let result;
        try {
          result = await trainRun(config, {
            ...cliHost(logger),
            out: flags.out,
            resume: flags.resume,
            force: flags.force,
            given,
            onEvents: (events$) => void reportTrainingProgress(events$, { logger }),
          });
        } finally {
          await closeDashboard?.();
        }
        const reportHtml = (await writeRunReport(flags.out)).html;
        const line = {
          run: flags.out,
          reason: result.summary.reason,
          epochs: result.summary.epochsCompleted,
          backend: result.backend.name,
          ...(result.metrics ? { metrics: result.metrics } : {}),
          report: reportHtml,
        };
        if (flags.json) process.stdout.write(JSON.stringify(line) + '\n');
        else logger.info(`run ${result.summary.reason}: ${flags.out} (report: ${reportHtml})`);
        // Ctrl-C leaves an unfinished run: 130 (128 + SIGINT), so `train && predict` stops here.
        if (result.interrupted) throw interruptedError(flags.out, result.summary.epochsCompleted);
      });
  },
};

/** Exit 130 (128 + SIGINT, the shell's convention) for a run stopped by Ctrl-C. */
export function interruptedError(run: string, epochsCompleted: number): CliError {
  return new CliError(`${run}: training interrupted after ${epochsCompleted} epoch(s); the run is unfinished (no final model); continue it with voxseg train --out ${run} --resume`, 130);
}
