import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg predict` lands (see the issues).
export const predictCommand: CommandModule = {
  name: 'predict',
  register(program: Command) {
    program
      .command('predict')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg predict: not built yet in this version of voxseg');
      });
  },
};
