/**
 * The browser-safe part of @voxseg/plugin-axial-attention: registers its layers so a saved
 * BL+AA network loads with `tf.loadLayersModel` in a page. Bundlers that honour the `browser`
 * export condition resolve `@voxseg/plugin-axial-attention` here.
 * @packageDocumentation
 */
export * from './layers/register.js';
