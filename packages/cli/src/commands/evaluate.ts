import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg evaluate` lands (see the issues).
export const evaluateCommand: CommandModule = {
  name: 'evaluate',
  register(program: Command) {
    program
      .command('evaluate')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg evaluate: not built yet in this version of voxseg');
      });
  },
};
