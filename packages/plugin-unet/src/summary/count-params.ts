import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Trainable parameters of a model: what the reference counts (PyTorch's
 * `sum(p.numel() for p in net.parameters())`). tfjs's `countParams()` also counts
 * non-trainable weights such as BatchNorm running statistics, which are buffers in PyTorch.
 */
export function countTrainableParams(model: tfl.LayersModel | tfl.layers.Layer): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}
