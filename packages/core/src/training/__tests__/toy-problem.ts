/**
 * Test fixtures for the trainer: a deterministic in-memory BatchProvider, a two-layer conv
 * net (optionally with a second, half-resolution deep-supervision head) and a small
 * BCE-with-logits loss. Test-only (excluded from the build by tsconfig.build.json).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Batch, BatchProvider } from '../../contracts/batch.js';
import type { Loss } from '../../contracts/loss.js';
import { Rng } from '../../random/rng.js';

export const EDGE = 8;

export interface ToyProviderOptions {
  seed?: number;
  batchSize?: number;
  /** Batch indices whose image is all NaN (to provoke a non-finite loss). */
  nanAt?: number[];
  /** Batch indices at which `batch()` rejects. */
  failAt?: number[];
  /** Record every requested index here. */
  requested?: number[];
}

/**
 * Image: one channel of N(0,1) noise. Targets: A = image > 0, B = image > 0.8: a pointwise
 * rule a 3x3x3 conv net learns quickly. Batch `i` depends only on (seed, i).
 */
export function toyProvider(options: ToyProviderOptions = {}): BatchProvider {
  const seed = options.seed ?? 1;
  const n = options.batchSize ?? 2;
  const voxels = n * EDGE ** 3;
  return {
    patchShape: [EDGE, EDGE, EDGE, 1],
    batchSize: n,
    targetChannels: ['A', 'B'],
    async batch(index: number): Promise<Batch> {
      options.requested?.push(index);
      if (options.failAt?.includes(index)) throw new Error(`toy provider cannot make batch ${index}`);
      const rng = new Rng(`${seed}:${index}`);
      const image = new Float32Array(voxels);
      const target = new Uint8Array(voxels * 2);
      for (let v = 0; v < voxels; v++) {
        const x = rng.normal();
        image[v] = options.nanAt?.includes(index) ? Number.NaN : x;
        target[2 * v] = x > 0 ? 1 : 0;
        target[2 * v + 1] = x > 0.8 ? 1 : 0;
      }
      return { image, shape: [n, EDGE, EDGE, EDGE, 1], target, targetChannels: 2, caseIds: Array.from({ length: n }, (_, i) => `toy-${index}-${i}`) };
    },
  };
}

/**
 * conv3d(4 filters, 3^3, same, relu) -> conv3d(2, 1^3) logits. With `deepSupervision`, a
 * second output at half resolution (average pool of the features -> 1^3 conv). Weights are
 * drawn from `Rng(seed)` so two builds with one seed are identical (tfjs's own initialisers
 * would use Math.random).
 */
export function toyModel(seed = 7, deepSupervision = false): tfl.LayersModel {
  const input = tfl.input({ shape: [EDGE, EDGE, EDGE, 1] });
  const features = tfl.layers.conv3d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
  const full = tfl.layers.conv3d({ filters: 2, kernelSize: 1 }).apply(features) as tfl.SymbolicTensor;
  const outputs = [full];
  if (deepSupervision) {
    const pooled = tfl.layers.averagePooling3d({ poolSize: 2 }).apply(features) as tfl.SymbolicTensor;
    outputs.push(tfl.layers.conv3d({ filters: 2, kernelSize: 1 }).apply(pooled) as tfl.SymbolicTensor);
  }
  const model = tfl.model({ inputs: input, outputs: deepSupervision ? outputs : full, name: 'toy-net' });
  const rng = new Rng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    return tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, 0.3)), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/** Numerically stable BCE with logits, mean over elements. */
function bce(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))) as tf.Scalar;
}

/** BCE on the full-resolution head, plus half the BCE of a half-resolution head (target subsampled). */
export const toyLoss: Loss = {
  name: 'toy-bce',
  compute(outputs, targets) {
    const y = targets[0]!;
    let loss = bce(outputs[0]!, y);
    if (outputs[1]) {
      const [n, d, h, w, k] = y.shape;
      const small = tf.stridedSlice(y, [0, 0, 0, 0, 0], [n!, d!, h!, w!, k!], [1, 2, 2, 2, 1]);
      loss = tf.add(loss, tf.mul(0.5, bce(outputs[1], small))) as tf.Scalar;
    }
    return loss;
  },
};

/** All weights of a model as plain arrays (for bit-exact comparisons). */
export function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}
