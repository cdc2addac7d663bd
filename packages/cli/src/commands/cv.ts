import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg cv` lands (see the issues).
export const cvCommand: CommandModule = {
  name: 'cv',
  register(program: Command) {
    program
      .command('cv')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg cv: not built yet in this version of voxseg');
      });
  },
};
