import type { Command } from 'commander';
import type { Plugin } from '@voxseg/core';
import { CliError, type CommandModule } from './types.js';

interface ModelSummaryFlags {
  variant: string;
  patch: string;
  inChannels: string;
  outChannels: string;
  json?: boolean;
}

/**
 * Plugins that may register network variants, as (package, factory export). Each is imported
 * when present; a missing package or export only means its variants are not offered.
 */
const VARIANT_PLUGINS: readonly [string, string][] = [
  ['@voxseg/plugin-unet', 'unetPlugin'],
  ['@voxseg/plugin-axial-attention', 'axialAttentionPlugin'],
];

async function loadVariantPlugins(): Promise<Plugin[]> {
  const plugins: Plugin[] = [];
  for (const [specifier, factory] of VARIANT_PLUGINS) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(specifier)) as Record<string, unknown>;
    } catch {
      continue; // not installed or not built yet
    }
    const make = mod[factory];
    if (typeof make === 'function') plugins.push((make as () => Plugin)());
  }
  return plugins;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`voxseg model-summary: ${flag} must be a positive integer, got "${value}"`);
  return n;
}

async function modelSummary(flags: ModelSummaryFlags, write: (s: string) => void): Promise<void> {
  const patch = positiveInt(flags.patch, '--patch');
  const inChannels = positiveInt(flags.inChannels, '--in-channels');
  const outChannels = positiveInt(flags.outChannels, '--out-channels');
  const core = await import('@voxseg/core');
  const unet = await import('@voxseg/plugin-unet').catch((err: Error) => {
    throw new CliError(`voxseg model-summary: @voxseg/plugin-unet is not available (${err.message})`);
  });
  const exp = core.createExperiment({ plugins: await loadVariantPlugins() });
  const variants = exp.registry('preset').names();
  if (!variants.includes(flags.variant)) {
    throw new CliError(`voxseg model-summary: unknown --variant "${flags.variant}"; valid variants: ${variants.join(', ')}`);
  }
  // Only shapes and counts are needed: the pure-JS backend, and no He-init draw.
  await core.selectBackend('cpu');
  let model: import('@tensorflow/tfjs-layers').LayersModel;
  try {
    model = unet.buildPreset(exp, flags.variant, { inChannels, outChannels, patchSize: patch, deepSupervision: true, initialize: false });
  } catch (err) {
    throw new CliError(`voxseg model-summary: --variant ${flags.variant} --patch ${patch}: ${(err as Error).message}`);
  }
  try {
    const summary = unet.summarizeModel(model);
    if (flags.json) {
      write(`${JSON.stringify({ parameters: summary.parameters, outputs: summary.outputs })}\n`);
    } else {
      write(`${flags.variant}, patch ${patch}^3, ${inChannels} -> ${outChannels} channels\n`);
      for (const line of unet.formatSummary(summary)) write(`${line}\n`);
    }
  } finally {
    model.dispose();
  }
}

/** `voxseg model-summary`: a variant's layer table, trainable parameters and output shapes. */
export const modelSummaryCommand: CommandModule = {
  name: 'model-summary',
  register(program: Command) {
    program
      .command('model-summary')
      .description("print a network variant's layers, trainable parameter count and output shapes")
      .requiredOption('--variant <name>', 'network variant: BL, BL+L, BL+GN, BL+L+GN, or one a plugin registers (BL+AA)')
      .option('--patch <edge>', 'cubic patch edge in voxels', '128')
      .option('--in-channels <n>', 'input channels (modalities)', '4')
      .option('--out-channels <n>', 'output channels (regions)', '3')
      .option('--json', 'print only {"parameters": N, "outputs": [[D,H,W,C], ...]} as one JSON line')
      .action(async (flags: ModelSummaryFlags, command: Command) => {
        const writeOut = command.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
        await modelSummary(flags, writeOut);
      });
  },
};
