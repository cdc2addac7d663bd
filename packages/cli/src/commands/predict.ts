import path from 'node:path';
import type { Command } from 'commander';
import { type CaseData, fsErrorFor, selectBackend, splitChannels } from '@voxseg/core';
import { BratsDataset, type NiftiHeader, discoverCases, formatProblem, validateCases, writeNifti } from '@voxseg/plugin-data-brats';
import { predictCase } from '../pipeline/predict-case.js';
import { CHECKPOINT_CHOICES, type CheckpointChoice, loadRunModels } from '../pipeline/load-runs.js';
import { intFlag, numberFlag } from '../pipeline/train-config.js';
import { assertWritable, lockRunFolder } from '../pipeline/run-folder.js';
import { esc, page, renderCaseOverlay } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { createLogger } from '../util/logger.js';
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
      .action(async (flags: PredictFlags) => {
        const logger = createLogger();
        if (!(flags.step > 0 && flags.step <= 1)) throw new CliError(`--step: expected a number in (0, 1], got ${flags.step}`);
        if (!(flags.threshold > 0 && flags.threshold < 1)) throw new CliError(`--threshold: expected a number in (0, 1), got ${flags.threshold}`);
        if (flags.checkpoint !== undefined && !(CHECKPOINT_CHOICES as readonly string[]).includes(flags.checkpoint)) {
          throw new CliError(`--checkpoint: expected ${CHECKPOINT_CHOICES.join(' | ')}, got "${flags.checkpoint}"`);
        }
        const runs = flags.run.split(',').map((s) => s.trim()).filter(Boolean);
        await selectBackend(flags.backend, { log: (l) => logger.info(l), debug: (l) => logger.debug(l) });
        const models = await loadRunModels(runs, flags.checkpoint ? { checkpoint: flags.checkpoint as CheckpointChoice } : {});

        const cases = await discoverCases(flags.input).catch((err: Error) => {
          throw new CliError(`--input: ${err.message}; see voxseg check --data ${flags.input}`);
        });
        if (cases.length === 0) throw new CliError(`--input ${flags.input}: no BraTS cases found (expected <id>/<id>_{t1,t1ce,t2,flair}.nii.gz); see voxseg check --data ${flags.input}`);
        const report = await validateCases(flags.input, cases);
        if (report.problems.length) {
          const p = report.problems[0]!;
          throw new CliError(`--input ${flags.input}: ${report.invalidCaseIds.length} invalid case(s), first: ${formatProblem(p)}; run voxseg check --data ${flags.input}`);
        }
        const dataset = new BratsDataset({ root: flags.input, cacheDir: false });
        if (dataset.inChannels !== models[0]!.inChannels) {
          throw new CliError(`--run ${models[0]!.run}: the model takes ${models[0]!.inChannels} input channels but ${flags.input} has ${dataset.inChannels} modalities`);
        }
        // One writer per output folder (a second predict, or a training, into it is refused).
        const lock = lockRunFolder(flags.out, { command: 'predict', logger, label: '--out', what: 'output folder' });
        // Ctrl-C: release the lock and exit 130 (there is nothing to save).
        const onSigint = () => {
          lock.release();
          process.exit(130);
        };
        process.once('SIGINT', onSigint);
        try {
          await assertWritable(flags.out);

          logger.info(`predicting ${cases.length} case(s) with ${models.length} model(s)${flags.tta ? ', mirroring TTA' : ''}, step ${flags.step}`);
          const bar = createProgress({ label: 'predict', total: cases.length, unit: 'cases' });
          const written: string[] = [];
          const reportRows: { id: string; png: string; et: boolean }[] = [];
          try {
            for (const c of cases) {
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
              await writeNifti(file, pred.labels, { reference: data.meta.header as NiftiHeader, datatype: 'uint8' }).catch((err: unknown) => {
                throw fsErrorFor(err, file);
              });
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
          logger.info(`wrote ${written.length} prediction(s) to ${flags.out}`);
          if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, cases: written.length, models: models.length }) + '\n');
        } finally {
          process.off('SIGINT', onSigint);
          lock.release();
        }
      });
  },
};
