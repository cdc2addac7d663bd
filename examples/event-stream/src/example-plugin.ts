import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Loss, NetworkOptions, Plugin } from '@voxseg/core';
import { Rng } from '@voxseg/core';

/** Options of the inline `example-dice-bce` loss. */
export interface ExampleLossOptions {
  /** Sum Dice statistics over the batch too (nnU-Net's batch Dice). Default true. */
  batchDice?: boolean;
  /** Dice smoothing. Default 0 (the BraTS 2021 winners'). */
  smooth?: number;
}

/**
 * BCE-with-logits + soft Dice on the full-resolution output, written the way REFERENCE.md
 * "Loss" describes nnU-Net's DC_and_BCE_loss (Dice term reported as -dc). Inline here so the
 * example depends on core only; a real pipeline registers `@voxseg/plugin-losses` instead.
 */
export function exampleDiceBceLoss(options: ExampleLossOptions = {}): Loss {
  const batchDice = options.batchDice ?? true;
  const smooth = options.smooth ?? 0;
  return {
    name: 'example-dice-bce',
    compute(outputs, targets) {
      const logits = outputs[0]!;
      const y = targets[0]!;
      const bce = tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
      const p = tf.sigmoid(logits);
      const axes = batchDice ? [0, 1, 2, 3] : [1, 2, 3];
      const tp = tf.sum(tf.mul(p, y), axes);
      const fp = tf.sum(tf.mul(p, tf.sub(1, y)), axes);
      const fn = tf.sum(tf.mul(tf.sub(1, p), y), axes);
      const dc = tf.div(tf.add(tf.mul(2, tp), smooth), tf.add(tf.add(tf.add(tf.mul(2, tp), fp), fn), smooth + 1e-8));
      return tf.sub(bce, tf.mean(dc)) as tf.Scalar;
    },
  };
}

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
 * The example's own plugin: registers the inline loss and the tiny network under names, so
 * the pipeline picks them from the experiment like any installed plugin's parts.
 */
export function examplePlugin(): Plugin {
  return {
    name: '@voxseg/example-event-stream',
    version: '0.1.0',
    register(ctx) {
      ctx.registerLoss({
        name: 'example-dice-bce',
        description: 'BCE-with-logits + soft Dice (-dc), full resolution only',
        defaults: { batchDice: true, smooth: 0 },
        create: (o: ExampleLossOptions) => exampleDiceBceLoss(o),
      });
      ctx.registerNetwork({
        name: 'tiny-conv',
        description: 'two 3^3 convs + a 1^3 head; for examples and tests',
        build: (o) => tinyConvNet(o as NetworkOptions & { seed?: number }),
      });
    },
  };
}
