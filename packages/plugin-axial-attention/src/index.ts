/**
 * `@voxseg/plugin-axial-attention`: the axial-attention decoder of the BraTS 2021 winning
 * method (BL+AA). Layers, the `axial-attention` decoder block and the plugin that registers
 * them with the `BL+AA` preset.
 *
 * @packageDocumentation
 */
export * from './layers/index.js';
