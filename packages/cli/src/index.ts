export { buildProgram, runCli } from './program.js';
export { CliError, type CommandModule } from './commands/types.js';
