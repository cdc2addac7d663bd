import type { Command } from 'commander';
import { CliError, type CommandModule } from './types.js';

// Placeholder until the package that implements `voxseg synth` lands (see the issues).
export const synthCommand: CommandModule = {
  name: 'synth',
  register(program: Command) {
    program
      .command('synth')
      .description('(not available yet in this build)')
      .allowUnknownOption(true)
      .action(() => {
        throw new CliError('voxseg synth: not built yet in this version of voxseg');
      });
  },
};
