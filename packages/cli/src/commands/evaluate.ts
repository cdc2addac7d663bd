import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Shape3 } from '@voxseg/core';
import { readNifti } from '@voxseg/plugin-data-brats';
import { type EvaluationResult, evaluationCsv, formatEvaluationTable, meanMetrics, scoreCase } from '../pipeline/evaluation.js';
import { esc, metricsTable, page, renderCaseOverlay } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { createLogger } from '../util/logger.js';
import { createProgress } from '../util/progress.js';
import { CliError, type CommandModule } from './types.js';

interface EvaluateFlags {
  pred: string;
  gt: string;
  out?: string;
  csv?: string;
  images?: string;
  report?: boolean;
  json?: boolean;
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
      .action(async (flags: EvaluateFlags) => {
        const logger = createLogger();
        const predFiles = await listPredictions(flags.pred);
        const result: EvaluationResult = { cases: {}, mean: {}, extra: {} };
        const bar = createProgress({ label: 'evaluate', total: predFiles.length, unit: 'cases' });
        const overlays: { id: string; png: string }[] = [];
        try {
          for (const file of predFiles) {
            const id = path.basename(file).replace(/\.nii(\.gz)?$/, '');
            const gtFile = await findGroundTruth(flags.gt, id);
            const [pred, gt] = await Promise.all([readNifti(file, { as: 'native' }), readNifti(gtFile, { as: 'native' })]);
            if (pred.shape.join() !== gt.shape.join()) {
              throw new CliError(`${file}: shape [${pred.shape.join(',')}] differs from the ground truth ${gtFile} [${gt.shape.join(',')}]`);
            }
            const { metrics, extra } = scoreCase(pred.data, gt.data, gt.shape, gt.spacing as Shape3);
            result.cases[id] = metrics;
            result.extra![id] = extra;
            if (flags.report) overlays.push({ id, png: await writeEvaluationOverlay(flags, id, pred.data, gt.data, gt.shape) });
            bar.increment(1, id);
          }
        } finally {
          bar.stop();
        }
        result.mean = meanMetrics(result.cases);
        const jsonFile = flags.out ?? path.join(flags.pred, 'evaluation.json');
        const csvFile = flags.csv ?? jsonFile.replace(/\.json$/i, '') + '.csv';
        const json = { cases: result.cases, mean: result.mean };
        await writeFileAtomic(jsonFile, JSON.stringify(json, null, 2) + '\n');
        await writeFileAtomic(csvFile, evaluationCsv(result));
        process.stdout.write(formatEvaluationTable(result) + '\n');
        logger.info(`wrote ${jsonFile} and ${csvFile}`);
        if (flags.report) {
          const dir = path.join(flags.pred, 'evaluation-report');
          const body = metricsTable(json) + overlays.map((o) => `<h2>${esc(o.id)}</h2><div class="grid"><img src="${esc(o.png)}" alt="${esc(o.id)}"></div>`).join('\n');
          await writeFileAtomic(path.join(dir, 'index.html'), page('voxseg evaluation', `<p>Columns: modalities with the prediction, last: the reference. NCR red, ED green, ET yellow.</p>${body}`));
          logger.info(`report: ${path.join(dir, 'index.html')}`);
        }
        if (flags.json) process.stdout.write(JSON.stringify(json) + '\n');
      });
  },
};

async function listPredictions(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new CliError(`--pred ${dir}: cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const files = names.filter((n) => /\.nii(\.gz)?$/.test(n)).sort().map((n) => path.join(dir, n));
  if (files.length === 0) throw new CliError(`--pred ${dir}: no .nii.gz predictions found`);
  return files;
}

/** `<gt>/<id>/<id>_seg.nii.gz`, else `<gt>/<id>.nii.gz` (DESIGN.md). */
export async function findGroundTruth(gt: string, id: string): Promise<string> {
  const candidates = [path.join(gt, id, `${id}_seg.nii.gz`), path.join(gt, id, `${id}_seg.nii`), path.join(gt, `${id}.nii.gz`), path.join(gt, `${id}.nii`)];
  for (const c of candidates) if (await fs.stat(c).then((s) => s.isFile(), () => false)) return c;
  throw new CliError(`--gt ${gt}: no ground truth for case ${id} (looked for ${candidates[0]} and ${candidates[2]})`);
}

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
  );
  return png;
}
