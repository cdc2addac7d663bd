import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg bench` lands (see the issues).
export const benchCommand: CommandModule = {
  name: 'bench',
  register(program: Command) {
    program
      .command('bench')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg bench: not built yet in this version of voxseg');
      });
  },
};
