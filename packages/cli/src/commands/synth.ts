import type { Command } from 'commander';
import { createProgress } from '../util/progress.js';
import { CliError, type CommandModule } from './types.js';

interface SynthFlags {
  out: string;
  cases: string;
  seed: string;
  shape: string;
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
      .description('write N synthetic BraTS-2021-layout cases (t1, t1ce, t2, flair int16 + seg uint8, .nii.gz)')
      .requiredOption('--out <dir>', 'output folder (created if missing); cases go to <dir>/BraTS2021_NNNNN/')
      .requiredOption('--cases <n>', 'number of cases')
      .option('--seed <s>', 'random seed: the same seed writes the same files', '0')
      .option('--shape <x,y,z>', 'image size in voxels, NIfTI order', '240,240,155')
      .option('--force', 'overwrite existing case folders')
      .action(async (flags: SynthFlags, command: Command) => {
        const out = command.configureOutput();
        const writeOut = out.writeOut ?? ((s: string) => process.stdout.write(s));
        const writeErr = out.writeErr ?? ((s: string) => process.stderr.write(s));
        const n = parseInteger(flags.cases, '--cases', 1);
        const seed = parseInteger(flags.seed, '--seed', 0);
        const shape = parseShape(flags.shape);
        const data = await import('@voxseg/plugin-data-brats');
        // Started at the first finished case, so a refusal (existing cases) prints only its error.
        let progress: ReturnType<typeof createProgress> | undefined;
        try {
          await data.synthesizeDataset(flags.out, n, seed, {
            shape,
            force: Boolean(flags.force),
            onProgress: (done, _total, id) => {
              progress ??= createProgress({ label: 'synth', total: n, unit: 'cases', stream: { write: writeErr, isTTY: Boolean(process.stderr.isTTY) } });
              progress.update(done, id);
            },
          });
        } catch (err) {
          if (err instanceof data.DataError) throw new CliError(`voxseg synth: ${err.message}`);
          throw err;
        } finally {
          progress?.stop();
        }
        writeOut(`wrote ${n} case${n === 1 ? '' : 's'} (${shape.join('x')}, seed ${seed}) to ${flags.out}\n`);
      });
  },
};
