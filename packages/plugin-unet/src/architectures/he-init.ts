import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '@voxseg/core';

/**
 * Standard deviation of nnU-Net's `InitWeights_He(neg_slope)`, i.e. PyTorch's
 * `kaiming_normal_(w, a=negativeSlope)` (mode fan_in, leaky_relu gain):
 * `sqrt(2 / (1 + a^2)) / sqrt(fanIn)`.
 */
export function heStd(fanIn: number, negativeSlope: number): number {
  return Math.sqrt(2 / (1 + negativeSlope * negativeSlope)) / Math.sqrt(fanIn);
}

/**
 * PyTorch's fan_in of a tfjs conv kernel: the product of every dimension but the last.
 * - Conv3D kernel `[k, k, k, in, out]` -> `k^3 * in`, as PyTorch's `[out, in, k, k, k]`.
 * - Conv3DTranspose kernel `[k, k, k, out, in]` -> `k^3 * out`: PyTorch stores a transposed
 *   conv's weight as `[in, out, k, k, k]` and takes fan_in from dimension 1, i.e. `out * k^3`;
 *   nnU-Net's He init inherits that, and so do we.
 */
export function torchFanIn(kernelShape: readonly number[]): number {
  return kernelShape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/**
 * Re-initialise conv kernels with He-normal values drawn from `rng` (in layer order, so the
 * same seed gives the same network) and biases with zeros, as nnU-Net's `InitWeights_He`.
 * Norm layers keep gamma 1, beta 0.
 */
export function initializeHe(layers: readonly tfl.layers.Layer[], rng: Rng, negativeSlope: number): void {
  for (const layer of layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const kernelShape = weights[0]!.shape;
    const std = heStd(torchFanIn(kernelShape), negativeSlope);
    const values = new Float32Array(weights[0]!.size);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal(0, std);
    const fresh = [tf.tensor(values, kernelShape), ...weights.slice(1).map((w) => tf.zerosLike(w))];
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}
