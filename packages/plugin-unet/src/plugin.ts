import { type Plugin, pluginVersion } from '@voxseg/core';
import { UNET_PRESETS } from './architectures/presets.js';
import { unetBuilder } from './architectures/unet.js';
import { identityBlock } from './blocks/identity-block.js';
// Imported for their side effect: each layer module registers its class for serialization,
// so models containing them load (done once per process by module evaluation).
import './layers/batch-normalization-5d.js';
import './layers/conv3d-bias.js';
import './layers/group-normalization.js';
import './layers/instance-normalization.js';

/** Options of {@link unetPlugin}. */
export interface UnetPluginOptions {
  /** Register the BL, BL+L, BL+GN and BL+L+GN presets. Default `true`. */
  presets?: boolean;
}

/**
 * The U-Net plugin: registers the `unet` network builder, the `identity` block and the
 * presets `BL`, `BL+L`, `BL+GN`, `BL+L+GN` (kind `preset`). The 5-D norm layers are
 * registered with tfjs's serialization when this package is imported.
 */
export function unetPlugin(options: UnetPluginOptions = {}): Plugin {
  return {
    name: '@voxseg/plugin-unet',
    version: pluginVersion(import.meta.url),
    register(ctx) {
      ctx.registerNetwork(unetBuilder);
      ctx.registerBlock(identityBlock);
      if (options.presets ?? true) for (const preset of UNET_PRESETS) ctx.registerPreset(preset);
    },
  };
}
