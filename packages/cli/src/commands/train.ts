import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { intFlag, resolveTrainConfig, type TrainRunConfig } from '../pipeline/train-config.js';
import { addTrainOptions, givenTrainFlags, type TrainFlags, trainFlagsToConfig } from '../pipeline/train-options.js';
import { trainRun } from '../pipeline/train-run.js';
import { createLogger } from '../util/logger.js';
import { startRunDashboard } from './dashboard.js';
import { CliError, type CommandModule } from './types.js';

/** `voxseg train`: one fold of a BraTS-layout folder with a preset or a config file. */
export const trainCommand: CommandModule = {
  name: 'train',
  register(program: Command) {
    const cmd = program
      .command('train')
      .description('train one fold (nnU-Net recipe; defaults are the full BraTS 2021 schedule)')
      .option('--data <dir>', 'BraTS-layout data folder')
      .option('--out <run>', 'run folder to create (or continue with --resume)')
      .option('--config <file>', 'JSON file with any TrainRunConfig fields (flags win)')
      .option('--fold <k>', 'fold 0-4 of the 5-fold split (default 0)', intFlag('--fold'));
    addTrainOptions(cmd)
      .option('--resume', 'continue the run in --out from its last checkpoint, with its saved settings (flags given change them; see --force)')
      .option('--force', 'start over in an --out that holds a run (the old one is moved aside); with --resume: accept changed settings')
      .option('--json', 'print a JSON summary as the last line')
      .option('--dashboard', 'serve the run live in the dashboard while it trains (prints the URL)')
      .action(async (flags: TrainFlags & { config?: string; fold?: number; resume?: boolean; force?: boolean; json?: boolean; dashboard?: boolean }, cmd: Command) => {
        const logger = createLogger();
        const fromFile = flags.config ? await readConfigFile(flags.config) : {};
        const fromFlags = { ...trainFlagsToConfig(flags), fold: flags.fold };
        const config = resolveTrainConfig(fromFile, fromFlags);
        // What the user gave (not the defaults): on --resume only these change the saved run.
        const given = { ...fromFile, ...givenTrainFlags(fromFlags, cmd) };
        const closeDashboard = flags.dashboard ? await startRunDashboard(config.out, 'run', logger) : undefined;
        let result;
        try {
          result = await trainRun(config, { resume: flags.resume, force: flags.force, given, logger });
        } finally {
          await closeDashboard?.();
        }
        const line = {
          run: config.out,
          reason: result.summary.reason,
          epochs: result.summary.epochsCompleted,
          backend: result.backend.name,
          ...(result.metrics ? { metrics: result.metrics } : {}),
          ...(result.reportHtml ? { report: result.reportHtml } : {}),
        };
        if (flags.json) process.stdout.write(JSON.stringify(line) + '\n');
        else logger.info(`run ${result.summary.reason}: ${config.out}${result.reportHtml ? ` (report: ${result.reportHtml})` : ''}`);
        // Ctrl-C leaves an unfinished run: 130 (128 + SIGINT), so `train && predict` stops here.
        if (result.interrupted) throw interruptedError(config.out, result.summary.epochsCompleted);
      });
  },
};

/** Exit 130 (128 + SIGINT, the shell's convention) for a run stopped by Ctrl-C. */
export function interruptedError(run: string, epochsCompleted: number): CliError {
  return new CliError(`${run}: training interrupted after ${epochsCompleted} epoch(s); the run is unfinished (no final model); continue it with voxseg train --out ${run} --resume`, 130);
}

async function readConfigFile(file: string): Promise<Partial<TrainRunConfig>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`--config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Partial<TrainRunConfig>;
  } catch (err) {
    throw new CliError(`--config ${file}: not a valid config (${(err as Error).message})`);
  }
}
