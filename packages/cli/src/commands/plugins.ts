import type { Command } from 'commander';
import { createEngineExperimentFrom } from '@voxseg/engine';
import { collect } from '../options/flags.js';
import type { CommandModule } from './types.js';

/** `voxseg plugins`: what the experiment registers (built-ins plus `--plugin` modules): kind, name, plugin, version. */
export const pluginsCommand: CommandModule = {
  name: 'plugins',
  register(program: Command) {
    program
      .command('plugins')
      .description('list every registered part (kind, name, plugin, version), with --plugin modules loaded')
      .option('--plugin <module>', 'load a plugin module (npm name or .js/.mjs path); repeatable', collect)
      .option('--json', 'print the list as one JSON object on the last line')
      .action(async (flags: { plugin?: string[]; json?: boolean }) => {
        const experiment = await createEngineExperimentFrom(flags.plugin ?? []);
        const rows = experiment.entries();
        if (flags.json) {
          process.stdout.write(JSON.stringify({ plugins: experiment.pluginList(), entries: rows }) + '\n');
          return;
        }
        const header = ['kind', 'name', 'plugin', 'version'];
        const cells = rows.map((r) => [r.kind, r.name, r.plugin, r.version]);
        const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
        const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
        process.stdout.write([line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n');
      });
  },
};
