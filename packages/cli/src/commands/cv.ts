import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type EvaluationResult, formatEvaluationTable, meanMetrics, type RegionMetrics } from '../pipeline/evaluation.js';
import { intFlag, numberFlag, resolveTrainConfig, type TrainRunConfig } from '../pipeline/train-config.js';
import { trainRun } from '../pipeline/train-run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { createLogger } from '../util/logger.js';
import { CliError, type CommandModule } from './types.js';

/** `voxseg cv`: the 5 folds in sequence (resumable), then cross-validation metrics over all cases. */
export const cvCommand: CommandModule = {
  name: 'cv',
  register(program: Command) {
    program
      .command('cv')
      .description('5-fold cross-validation: trains every fold into <out>/fold_<k> (resumable), then aggregates metrics')
      .requiredOption('--data <dir>', 'BraTS-layout data folder')
      .requiredOption('--out <dir>', 'folder for the folds')
      .option('--variant <name>', 'network preset (default BL)')
      .option('--folds <n>', 'number of folds (default 5)', intFlag('--folds'))
      .option('--epochs <n>', 'epochs per fold', intFlag('--epochs'))
      .option('--iterations <n>', 'iterations per epoch', intFlag('--iterations'))
      .option('--val-iterations <n>', 'validation batches per epoch', intFlag('--val-iterations'))
      .option('--batch <n>', 'batch size', intFlag('--batch'))
      .option('--patch <p>', 'cubic patch edge', intFlag('--patch'))
      .option('--base-filters <f>', 'filters of the first stage', intFlag('--base-filters'))
      .option('--max-filters <f>', 'cap on filters per stage', intFlag('--max-filters'))
      .option('--stages <s>', 'resolution stages', intFlag('--stages'))
      .option('--seed <s>', 'seed', intFlag('--seed'))
      .option('--backend <b>', 'auto | native | cpu | wasm | tensorflow')
      .option('--lr <x>', 'initial learning rate', numberFlag('--lr'))
      .option('--augmentation <name>', 'da4 | none')
      .option('--skip-invalid', 'leave invalid cases out')
      .option('--json', 'print the aggregated JSON as the last line')
      .action(async (flags: Record<string, unknown>) => {
        const logger = createLogger();
        const base = {
          data: flags.data as string,
          variant: flags.variant as string | undefined,
          folds: flags.folds as number | undefined,
          epochs: flags.epochs as number | undefined,
          iterations: flags.iterations as number | undefined,
          valIterations: flags.valIterations as number | undefined,
          batch: flags.batch as number | undefined,
          patch: flags.patch as number | undefined,
          baseFilters: flags.baseFilters as number | undefined,
          maxFilters: flags.maxFilters as number | undefined,
          stages: flags.stages as number | undefined,
          seed: flags.seed as number | undefined,
          backend: flags.backend as string | undefined,
          lr: flags.lr as number | undefined,
          augmentation: flags.augmentation as TrainRunConfig['augmentation'] | undefined,
          skipInvalid: flags.skipInvalid as boolean | undefined,
        };
        const out = flags.out as string;
        const folds = resolveTrainConfig(base, { out }).folds;
        const all: Record<string, RegionMetrics> = {};
        for (let k = 0; k < folds; k++) {
          const foldDir = path.join(out, `fold_${k}`);
          const metricsFile = path.join(foldDir, 'metrics.json');
          const done = await fs.readFile(metricsFile, 'utf8').then((t) => JSON.parse(t) as EvaluationResult, () => null);
          if (!done) {
            const started = await fs.stat(path.join(foldDir, 'config.json')).then(() => true, () => false);
            logger.info(`fold ${k + 1}/${folds}: ${started ? 'resuming' : 'training'} in ${foldDir}`);
            const config = resolveTrainConfig(base, { out: foldDir, fold: k });
            const r = await trainRun(config, { resume: started, logger });
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
      });
  },
};
