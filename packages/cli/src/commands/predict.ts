import path from 'node:path';
import type { Command } from 'commander';
import { selectBackend, splitChannels, writeFileAtomic } from '@voxseg/core';
import { CHECKPOINT_CHOICES, type CheckpointChoice, createEngineExperimentFrom, predictFolder } from '@voxseg/engine';
import { cliHost } from '../options/engine-host.js';
import { collect, intFlag, numberFlag } from '../options/flags.js';
import { esc, page, renderCaseOverlay } from '../report/index.js';
import { createLogger } from '../util/logger.js';
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
  checkpoint?: string;
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
      .option('--checkpoint <kind>', 'predict with a checkpoint (last | best | final) instead of the final model, e.g. of an unfinished run')
      .option('--report', 'also write PNG overlays and an index page to <out>/report/')
      .option('--json', 'print a JSON summary as the last line')
      .option('--dataset <name>', 'dataset plugin of --input (default: detected from the folder, else the run\'s)')
      .option('--plugin <module>', 'load a plugin module (npm name or .js/.mjs path); repeatable', collect)
      .action(async (flags: PredictFlags) => {
        const logger = createLogger();
        if (!(flags.step > 0 && flags.step <= 1)) throw new CliError(`--step: expected a number in (0, 1], got ${flags.step}`);
        if (!(flags.threshold > 0 && flags.threshold < 1)) throw new CliError(`--threshold: expected a number in (0, 1), got ${flags.threshold}`);
        if (flags.checkpoint !== undefined && !(CHECKPOINT_CHOICES as readonly string[]).includes(flags.checkpoint)) {
          throw new CliError(`--checkpoint: expected ${CHECKPOINT_CHOICES.join(' | ')}, got "${flags.checkpoint}"`);
        }
        const runs = flags.run.split(',').map((s) => s.trim()).filter(Boolean);
        await selectBackend(flags.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });
        const experiment = await createEngineExperimentFrom(flags.plugin ?? []);
        const reportRows: { id: string; png: string; et: boolean }[] = [];
        const { files: written, models } = await predictFolder({
          ...cliHost(logger),
          experiment,
          runs,
          input: flags.input,
          out: flags.out,
          ...(flags.dataset ? { dataset: flags.dataset } : {}),
          ...(flags.checkpoint ? { checkpoint: flags.checkpoint as CheckpointChoice } : {}),
          // Ctrl-C: the output folder's lock is released, then exit 130 (there is nothing to save).
          onSigint: () => process.exit(130),
          inference: {
            step: flags.step,
            tta: flags.tta ?? false,
            threshold: flags.threshold,
            windowBatchSize: flags.windowBatch,
            postprocess: flags.postprocess ? { minVoxels: flags.etMinVoxels } : false,
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
        if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, cases: written.length, models: models.length }) + '\n');
      });
  },
};
