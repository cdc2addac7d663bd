import type { Command } from 'commander';
import { createProgress } from '../util/progress.js';
import { CliError, type CommandModule } from './types.js';

interface SynthFlags {
  out: string;
  cases: string;
  seed: string;
  shape: string;
  layout: string;
  testCases?: string;
  force?: boolean;
}

function parseInteger(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new CliError(`voxseg synth: ${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/** `240,240,155` -> [240, 240, 155] (NIfTI x, y, z). */
function parseShape(value: string): [number, number, number] {
  const parts = value.split(/[,x]/).map((s) => Number(s.trim()));
  if (parts.length !== 3 || !parts.every((p) => Number.isInteger(p) && p >= 8 && p <= 1024)) {
    throw new CliError(`voxseg synth: --shape must be X,Y,Z with integers in [8, 1024], got "${value}"`);
  }
  return parts as [number, number, number];
}

/** `voxseg synth`: write N synthetic BraTS-layout cases. */
export const synthCommand: CommandModule = {
  name: 'synth',
  register(program: Command) {
    program
      .command('synth')
      .description('write N synthetic BraTS-like cases (t1, t1ce, t2, flair int16 + seg uint8, .nii.gz), in the BraTS 2021 or the nnU-Net layout')
      .requiredOption('--out <dir>', 'output folder (created if missing); cases go to <dir>/BraTS2021_NNNNN/ (brats layout) or <dir>/imagesTr/ (nnunet layout)')
      .requiredOption('--cases <n>', 'number of cases')
      .option('--seed <s>', 'random seed: the same seed writes the same files', '0')
      .option('--shape <x,y,z>', 'image size in voxels, NIfTI order', '240,240,155')
      .option('--layout <brats|nnunet>', 'brats: <dir>/<id>/<id>_<modality>.nii.gz; nnunet: nnU-Net v2 raw dataset <dir>/{imagesTr,labelsTr,imagesTs}/ + dataset.json (as Dataset137_BraTS2021)', 'brats')
      .option('--test-cases <n>', 'with --layout nnunet: also write n cases to imagesTs/ (their labels to labelsTs/)')
      .option('--force', 'overwrite existing case folders')
      .action(async (flags: SynthFlags, command: Command) => {
        const out = command.configureOutput();
        const writeOut = out.writeOut ?? ((s: string) => process.stdout.write(s));
        const writeErr = out.writeErr ?? ((s: string) => process.stderr.write(s));
        const n = parseInteger(flags.cases, '--cases', 1);
        const seed = parseInteger(flags.seed, '--seed', 0);
        const shape = parseShape(flags.shape);
        if (flags.layout !== 'brats' && flags.layout !== 'nnunet') throw new CliError(`voxseg synth: --layout must be brats or nnunet, got "${flags.layout}"`);
        if (flags.testCases !== undefined && flags.layout !== 'nnunet') throw new CliError('voxseg synth: --test-cases needs --layout nnunet');
        const testCases = flags.testCases === undefined ? 0 : parseInteger(flags.testCases, '--test-cases', 0);
        const data = await import('@voxseg/plugin-data-brats');
        // Started at the first finished case, so a refusal (existing cases) prints only its error.
        let progress: ReturnType<typeof createProgress> | undefined;
        const onProgress = (done: number, total: number, id: string) => {
          progress ??= createProgress({ label: 'synth', total, unit: 'cases', stream: { write: writeErr, isTTY: Boolean(process.stderr.isTTY) } });
          progress.update(done, id);
        };
        try {
          if (flags.layout === 'nnunet') {
            const nnunet = await import('@voxseg/plugin-data-nnunet');
            await nnunet.synthesizeNnunetDataset(flags.out, n, seed, { shape, testCases, force: Boolean(flags.force), onProgress });
          } else {
            await data.synthesizeDataset(flags.out, n, seed, { shape, force: Boolean(flags.force), onProgress });
          }
        } catch (err) {
          if (err instanceof data.DataError) throw new CliError(`voxseg synth: ${err.message}`);
          throw err;
        } finally {
          progress?.stop();
        }
        const test = testCases > 0 ? ` and ${testCases} test case${testCases === 1 ? '' : 's'}` : '';
        writeOut(`wrote ${n} case${n === 1 ? '' : 's'}${test} (${shape.join('x')}, seed ${seed}${flags.layout === 'nnunet' ? ', nnU-Net layout' : ''}) to ${flags.out}\n`);
      });
  },
};
