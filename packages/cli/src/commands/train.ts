import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { intFlag, numberFlag, resolveTrainConfig, type TrainRunConfig } from '../pipeline/train-config.js';
import { trainRun } from '../pipeline/train-run.js';
import { createLogger } from '../util/logger.js';
import { CliError, type CommandModule } from './types.js';

interface TrainFlags {
  data?: string;
  out?: string;
  config?: string;
  variant?: string;
  fold?: number;
  epochs?: number;
  iterations?: number;
  valIterations?: number;
  batch?: number;
  patch?: number;
  baseFilters?: number;
  maxFilters?: number;
  stages?: number;
  seed?: number;
  backend?: string;
  lr?: number;
  augmentation?: string;
  deepSupervision?: boolean;
  skipInvalid?: boolean;
  cacheDir?: string;
  resume?: boolean;
  force?: boolean;
  json?: boolean;
}

/** `voxseg train`: one fold of a BraTS-layout folder with a preset or a config file. */
export const trainCommand: CommandModule = {
  name: 'train',
  register(program: Command) {
    program
      .command('train')
      .description('train one fold (nnU-Net recipe; defaults are the full BraTS 2021 schedule)')
      .option('--data <dir>', 'BraTS-layout data folder')
      .option('--out <run>', 'run folder to create (or continue with --resume)')
      .option('--config <file>', 'JSON file with any TrainRunConfig fields (flags win)')
      .option('--variant <name>', 'network preset: BL, BL+L, BL+GN, BL+L+GN, BL+AA (default BL)')
      .option('--fold <k>', 'fold 0-4 of the 5-fold split (default 0)', intFlag('--fold'))
      .option('--epochs <n>', 'epochs (default 1000)', intFlag('--epochs'))
      .option('--iterations <n>', 'iterations per epoch (default 250)', intFlag('--iterations'))
      .option('--val-iterations <n>', 'validation batches per epoch (default 50)', intFlag('--val-iterations'))
      .option('--batch <n>', 'batch size (default 2)', intFlag('--batch'))
      .option('--patch <p>', 'cubic patch edge (default 128)', intFlag('--patch'))
      .option('--base-filters <f>', 'filters of the first stage (default: the preset, 32)', intFlag('--base-filters'))
      .option('--max-filters <f>', 'cap on filters per stage (default: the preset)', intFlag('--max-filters'))
      .option('--stages <s>', 'resolution stages (default: from the patch, at most 6)', intFlag('--stages'))
      .option('--seed <s>', 'seed of the run (default 12345)', intFlag('--seed'))
      .option('--backend <b>', 'auto | native | cpu | wasm | tensorflow (default auto)')
      .option('--lr <x>', 'initial learning rate (default 0.01)', numberFlag('--lr'))
      .option('--augmentation <name>', 'da4 | none (default da4)')
      .option('--no-deep-supervision', 'train the full-resolution head only')
      .option('--skip-invalid', 'leave invalid cases out (listed) instead of refusing')
      .option('--cache-dir <dir>', 'preprocessed-case cache (default <data>/.voxseg-cache)')
      .option('--resume', 'continue the run in --out from its last checkpoint')
      .option('--force', 'start over in an --out that holds a run (the old one is moved aside)')
      .option('--json', 'print a JSON summary as the last line')
      .action(async (flags: TrainFlags) => {
        const logger = createLogger();
        const fromFile = flags.config ? await readConfigFile(flags.config) : {};
        const config = resolveTrainConfig(fromFile, {
          data: flags.data,
          out: flags.out,
          variant: flags.variant,
          fold: flags.fold,
          epochs: flags.epochs,
          iterations: flags.iterations,
          valIterations: flags.valIterations,
          batch: flags.batch,
          patch: flags.patch,
          baseFilters: flags.baseFilters,
          maxFilters: flags.maxFilters,
          stages: flags.stages,
          seed: flags.seed,
          backend: flags.backend,
          lr: flags.lr,
          augmentation: flags.augmentation as TrainRunConfig['augmentation'] | undefined,
          deepSupervision: flags.deepSupervision === false ? false : undefined,
          skipInvalid: flags.skipInvalid,
          cacheDir: flags.cacheDir,
        });
        const result = await trainRun(config, { resume: flags.resume, force: flags.force, logger });
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
      });
  },
};

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
