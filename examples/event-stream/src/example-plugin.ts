import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NetworkOptions, Plugin } from '@voxseg/core';
import { Rng } from '@voxseg/core';

/**
 * A two-conv network, enough for the toy task: conv 3^3 (8 filters, leaky ReLU) -> conv 3^3
 * (8) -> conv 1^3 to `outChannels` logits. Weights are drawn from `Rng(seed)` (tfjs's own
 * initialisers use Math.random, so a run would not be reproducible).
 */
export function tinyConvNet(options: NetworkOptions & { seed?: number }): tfl.LayersModel {
  const p = typeof options.patchSize === 'number' ? [options.patchSize, options.patchSize, options.patchSize] : options.patchSize;
  const input = tfl.input({ shape: [...p, options.inChannels] });
  let x = input;
  for (let i = 0; i < 2; i++) {
    x = tfl.layers.conv3d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.leakyReLU({ alpha: 0.01 }).apply(x) as tfl.SymbolicTensor;
  }
  const out = tfl.layers.conv3d({ filters: options.outChannels, kernelSize: 1 }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'tiny-conv' });
  const rng = new Rng(options.seed ?? 0);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const fanIn = shape.length === 5 ? shape[0]! * shape[1]! * shape[2]! * shape[3]! : 0;
    const std = fanIn ? Math.sqrt(2 / fanIn) : 0; // He init for kernels, zero biases
    return tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (std ? rng.normal(0, std) : 0)), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/**
 * The example's own plugin: registers the tiny network under a name, so the pipeline picks it
 * from the experiment like any installed plugin's parts (a real pipeline would add
 * `@voxseg/plugin-unet` instead).
 */
export function examplePlugin(): Plugin {
  return {
    name: '@voxseg/example-event-stream',
    version: '0.1.0',
    register(ctx) {
      ctx.registerNetwork({
        name: 'tiny-conv',
        description: 'two 3^3 convs + a 1^3 head; for examples and tests',
        build: (o) => tinyConvNet(o as NetworkOptions & { seed?: number }),
      });
    },
  };
}
