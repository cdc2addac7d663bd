import type { Command } from 'commander';
import { createProgress } from '../util/progress.js';
import { CliError, type CommandModule } from './types.js';

interface CheckFlags {
  data: string;
  json?: boolean;
}

/**
 * `voxseg check`: validate a BraTS-layout folder and list every problem, one line each
 * (`case <id>: <file>: expected ..., found ...`), then a summary. Exit 1 when any case is
 * invalid, 0 with `N cases, all valid` otherwise.
 */
export const checkCommand: CommandModule = {
  name: 'check',
  register(program: Command) {
    program
      .command('check')
      .description('validate a BraTS-layout dataset folder and list every problem found')
      .requiredOption('--data <dir>', 'dataset folder: one <id>/ folder per case with <id>_{t1,t1ce,t2,flair}[,_seg].nii.gz')
      .option('--json', 'print {"cases": N, "invalid": [...ids], "problems": [...]} as the last line instead of text')
      .action(async (flags: CheckFlags, command: Command) => {
        const out = command.configureOutput();
        const writeOut = out.writeOut ?? ((s: string) => process.stdout.write(s));
        const writeErr = out.writeErr ?? ((s: string) => process.stderr.write(s));
        const data = await import('@voxseg/plugin-data-brats');
        let cases: Awaited<ReturnType<typeof data.discoverCases>>;
        try {
          cases = await data.discoverCases(flags.data);
        } catch (err) {
          if (err instanceof data.DataError) throw new CliError(`voxseg check: ${err.message}`);
          throw err;
        }
        const progress = createProgress({ label: 'check', total: cases.length, unit: 'cases', stream: { write: writeErr, isTTY: Boolean(process.stderr.isTTY) } });
        let report: Awaited<ReturnType<typeof data.validateCases>>;
        try {
          report = await data.validateCases(flags.data, cases, { onProgress: (done, _t, id) => progress.update(done, id) });
        } finally {
          progress.stop();
        }
        const n = report.caseIds.length;
        const bad = report.invalidCaseIds.length;
        if (flags.json) {
          writeOut(`${JSON.stringify({ cases: n, invalid: report.invalidCaseIds, problems: report.problems })}\n`);
        } else {
          for (const p of report.problems) writeOut(`${data.formatProblem(p)}\n`);
          writeOut(bad === 0 ? `${n} cases, all valid\n` : `${n} cases, ${bad} invalid (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'})\n`);
        }
        if (bad > 0) {
          throw new CliError(`voxseg check: ${bad} of ${n} cases in ${flags.data} are invalid (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} listed above)`);
        }
      });
  },
};
