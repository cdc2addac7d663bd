import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg train` lands (see the issues).
export const trainCommand: CommandModule = {
  name: 'train',
  register(program: Command) {
    program
      .command('train')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg train: not built yet in this version of voxseg');
      });
  },
};
