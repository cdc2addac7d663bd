import { type Plugin, pluginVersion } from '@voxseg/core';
import { axialAttentionBlock } from './blocks/axial-attention-block.js';
import { registerAxialAttentionLayers } from './layers/register.js';
import { BL_AA_PRESET } from './presets/bl-aa.js';

/** Options of {@link axialAttentionPlugin}. */
export interface AxialAttentionPluginOptions {
  /** Register the `BL+AA` preset. Default `true`. */
  presets?: boolean;
}

/**
 * The axial-attention plugin: registers the `axial-attention` block (kind `block`), the
 * `BL+AA` preset (kind `preset`) and the layers `AxialPositionalEmbedding` and
 * `AxialAttention3D` with tfjs's serialization (so saved BL+AA models load). It fills a slot
 * of `@voxseg/plugin-unet`'s network, a declared dependency: add `unetPlugin()` first, or the
 * experiment refuses this plugin with one line naming the missing one.
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
    version: pluginVersion(import.meta.url),
    dependencies: ['@voxseg/plugin-unet'],
    register(ctx) {
      registerAxialAttentionLayers();
      ctx.registerBlock(axialAttentionBlock);
      if (options.presets ?? true) ctx.registerPreset(BL_AA_PRESET);
    },
  };
}
