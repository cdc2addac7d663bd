/**
 * The browser-safe part of @voxseg/plugin-unet: the custom layers (and the conv3d-transpose
 * gradient), so a saved U-Net loads with `tf.loadLayersModel` in a page. Bundlers that honour
 * the `browser` export condition resolve `@voxseg/plugin-unet` here.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerConv3dTransposeGradient } from './gradients/conv3d-transpose-grad.js';
import { BatchNormalization5D } from './layers/batch-normalization-5d.js';
import { Conv3DBias } from './layers/conv3d-bias.js';
import { GroupNormalization } from './layers/group-normalization.js';
import { InstanceNormalization } from './layers/instance-normalization.js';

export { BatchNormalization5D, Conv3DBias, GroupNormalization, InstanceNormalization };
export { NETWORK_METADATA_KEY, type NetworkMetadata, readNetworkMetadata } from './io/network-metadata.js';

/**
 * Register the layers with tfjs's serialization map. The layer modules do it when evaluated,
 * but a bundler may drop an import kept only for that side effect (the package is
 * `sideEffects: false`); calling this is explicit and harmless twice.
 */
export function registerUnetLayers(): void {
  for (const cls of [BatchNormalization5D, Conv3DBias, GroupNormalization, InstanceNormalization]) tf.serialization.registerClass(cls as never);
  registerConv3dTransposeGradient();
}
