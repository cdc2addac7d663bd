import * as tf from '@tensorflow/tfjs-core';
import { AxialAttention3D } from './axial-attention-3d.js';
import { AxialPositionalEmbedding } from './axial-positional-embedding.js';

/**
 * Register the package's layers with tfjs's serialization map (by `className`), so
 * `tf.loadLayersModel` can rebuild models that contain them. Each layer module also does this
 * when it is first evaluated (tfjs's convention); calling it again is harmless (it rewrites
 * the same entries), and the plugin calls it so bundlers that drop "side-effect-free"
 * modules cannot lose the registration.
 */
export function registerAxialAttentionLayers(): void {
  tf.serialization.registerClass(AxialPositionalEmbedding);
  tf.serialization.registerClass(AxialAttention3D);
}
