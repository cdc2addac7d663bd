/**
 * `@voxseg/plugin-axial-attention`: the axial-attention decoder of the BraTS 2021 winning
 * method (BL+AA). Layers, the `axial-attention` decoder block and the plugin that registers
 * them with the `BL+AA` preset.
 *
 * @packageDocumentation
 */
export { axialAttentionPlugin, type AxialAttentionPluginOptions } from './plugin.js';
export {
  axialAttentionBlock,
  axialAttentionShapeAt,
  AXIAL_ATTENTION_BLOCK_DEFAULTS,
  type AxialAttentionBlockOptions,
} from './blocks/axial-attention-block.js';
export { BL_AA_PRESET } from './presets/bl-aa.js';
export * from './layers/index.js';
export { softmaxLastAxis } from './ops/softmax-last-axis.js';
