import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg check` lands (see the issues).
export const checkCommand: CommandModule = {
  name: 'check',
  register(program: Command) {
    program
      .command('check')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg check: not built yet in this version of voxseg');
      });
  },
};
