import path from 'node:path';
import type { Command } from 'commander';
import { type Shape3, writeFileAtomic } from '@voxseg/core';
import { createEngineExperimentFrom, evaluateFolder, evaluationCsv } from '@voxseg/engine';
import { readNifti } from '@voxseg/plugin-data-brats';
import { cliHost } from '../options/engine-host.js';
import { collect } from '../options/flags.js';
import { esc, formatEvaluationTable, metricsTable, page, renderCaseOverlay } from '../report/index.js';
import { createLogger } from '../util/logger.js';
import { CliError, type CommandModule } from './types.js';

interface EvaluateFlags {
  pred: string;
  gt: string;
  out?: string;
  csv?: string;
  images?: string;
  report?: boolean;
  json?: boolean;
  dataset?: string;
  plugin?: string[];
}

/** `voxseg evaluate`: Dice and HD95 per region per case (BraTS conventions), means, JSON + CSV + table. */
export const evaluateCommand: CommandModule = {
  name: 'evaluate',
  register(program: Command) {
    program
      .command('evaluate')
      .description('score predictions against ground truth: Dice and HD95 per region (WT, TC, ET), BraTS conventions')
      .requiredOption('--pred <dir>', 'folder of <caseId>.nii.gz predictions')
      .requiredOption('--gt <dir>', 'ground truth: <gt>/<id>/<id>_seg.nii.gz or <gt>/<id>.nii.gz')
      .option('--out <file>', 'JSON output (default <pred>/evaluation.json)')
      .option('--csv <file>', 'CSV output (default: the JSON path with .csv)')
      .option('--report', 'also write an HTML table page with overlays (<pred>/evaluation-report/)')
      .option('--images <dir>', 'BraTS-layout folder of the images for --report overlays (default: --gt)')
      .option('--json', 'print the JSON result as the last line')
      .option('--dataset <name>', 'dataset plugin of --gt (default: detected from the folder)')
      .option('--plugin <module>', 'load a plugin module (npm name or .js/.mjs path); repeatable', collect)
      .action(async (flags: EvaluateFlags) => {
        const logger = createLogger();
        const overlays: { id: string; png: string }[] = [];
        const experiment = await createEngineExperimentFrom(flags.plugin ?? []);
        const result = await evaluateFolder({
          ...cliHost(logger),
          experiment,
          pred: flags.pred,
          gt: flags.gt,
          ...(flags.dataset ? { dataset: flags.dataset } : {}),
          onCase: async (id, pred, ref) => {
            if (flags.report) overlays.push({ id, png: await writeEvaluationOverlay(flags, id, pred.data, ref.data, ref.shape) });
          },
        });
        const jsonFile = flags.out ?? path.join(flags.pred, 'evaluation.json');
        const csvFile = flags.csv ?? jsonFile.replace(/\.json$/i, '') + '.csv';
        const json = { cases: result.cases, mean: result.mean };
        await writeFileAtomic(jsonFile, JSON.stringify(json, null, 2) + '\n', { mkdir: true });
        await writeFileAtomic(csvFile, evaluationCsv(result), { mkdir: true });
        process.stdout.write(formatEvaluationTable(result) + '\n');
        logger.info(`wrote ${jsonFile} and ${csvFile}`);
        if (flags.report) {
          const dir = path.join(flags.pred, 'evaluation-report');
          const body = metricsTable(json) + overlays.map((o) => `<h2>${esc(o.id)}</h2><div class="grid"><img src="${esc(o.png)}" alt="${esc(o.id)}"></div>`).join('\n');
          await writeFileAtomic(path.join(dir, 'index.html'), page('voxseg evaluation', `<p>Columns: modalities with the prediction, last: the reference. NCR red, ED green, ET yellow.</p>${body}`), { mkdir: true });
          logger.info(`report: ${path.join(dir, 'index.html')}`);
        }
        if (flags.json) process.stdout.write(JSON.stringify(json) + '\n');
      });
  },
};

async function writeEvaluationOverlay(flags: EvaluateFlags, id: string, pred: ArrayLike<number>, gt: ArrayLike<number>, shape: Shape3): Promise<string> {
  const imagesDir = flags.images ?? flags.gt;
  const channels: { name: string; data: Float32Array }[] = [];
  for (const m of ['t1', 't1ce', 't2', 'flair']) {
    const f = path.join(imagesDir, id, `${id}_${m}.nii.gz`);
    const img = await readNifti(f).catch(() => null);
    if (img && img.shape.join() === shape.join()) channels.push({ name: m, data: img.data });
  }
  if (channels.length === 0) channels.push({ name: 'labels', data: Float32Array.from(gt as ArrayLike<number>) });
  const png = `${id}.png`;
  await writeFileAtomic(
    path.join(flags.pred, 'evaluation-report', png),
    renderCaseOverlay({ channels, shape, label: Uint8Array.from(pred), reference: Uint8Array.from(gt) }),
    { mkdir: true },
  );
  return png;
}
