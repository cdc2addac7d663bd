import type { NetworkBuilder, Plugin, Registry } from '@voxseg/core';
import { Tokens } from '@voxseg/core';
import { unetPlugin } from '@voxseg/plugin-unet';
import { axialAttentionBlock } from './blocks/axial-attention-block.js';
import { registerAxialAttentionLayers } from './layers/register.js';
import { BL_AA_PRESET } from './presets/bl-aa.js';

/** Options of {@link axialAttentionPlugin}. */
export interface AxialAttentionPluginOptions {
  /** Register the `BL+AA` preset. Default `true`. */
  presets?: boolean;
  /**
   * When the experiment has no `unet` network yet, register `@voxseg/plugin-unet`'s entries
   * too, so this plugin alone is enough for `BL+AA`. Harmless when the U-Net plugin is added
   * before or after (its entries are the same objects). Default `true`.
   */
  ensureUnet?: boolean;
}

/**
 * The axial-attention plugin: registers the `axial-attention` block (kind `block`), the
 * `BL+AA` preset (kind `preset`) and the layers `AxialPositionalEmbedding` and
 * `AxialAttention3D` with tfjs's serialization (so saved BL+AA models load).
 *
 * @example
 * ```ts
 * const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
 * const model = buildPreset(exp, 'BL+AA', { inChannels: 4, outChannels: 3, patchSize: 128 });
 * ```
 */
export function axialAttentionPlugin(options: AxialAttentionPluginOptions = {}): Plugin {
  return {
    name: '@voxseg/plugin-axial-attention',
    version: '0.1.0',
    register(ctx) {
      registerAxialAttentionLayers();
      if (options.ensureUnet ?? true) {
        const networks = ctx.container.resolve<Registry<NetworkBuilder>>(Tokens.network.symbol);
        if (!networks.has('unet')) unetPlugin().register(ctx);
      }
      ctx.registerBlock(axialAttentionBlock);
      if (options.presets ?? true) ctx.registerPreset(BL_AA_PRESET);
    },
  };
}
