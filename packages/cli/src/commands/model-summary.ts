import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg model-summary` lands (see the issues).
export const modelSummaryCommand: CommandModule = {
  name: 'model-summary',
  register(program: Command) {
    program
      .command('model-summary')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg model-summary: not built yet in this version of voxseg');
      });
  },
};
