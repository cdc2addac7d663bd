import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random/rng.js';
import { setTestBackend } from '../backend/test-backend.js';
import { gradientsFreeing, variableGradsFreeing } from './backprop.js';
import { applyWithCheckpoints } from './checkpointed-apply.js';

beforeAll(async () => {
  await setTestBackend();
});

/** Bytes alive when the backward pass reaches the first op of the network (recorded by a probe). */
let bytesAtProbe = 0;
/** Identity whose gradient records tf.memory().numBytes: it runs last in the backward pass. */
const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return {
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => {
      bytesAtProbe = tf.memory().numBytes;
      return tf.clone(dy);
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * A small conv net with what a walk must get right: a tensor read by several ops (the
 * residual), an op with several outputs (split), a customGrad op, an op off the x -> loss path
 * (the running mean), a variable used twice, BatchNorm in training mode.
 */
function net(seed: number): { model: tfl.LayersModel; extra: tf.Variable } {
  const input = tfl.input({ shape: [8, 8, 2] });
  const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotNormal({ seed }) }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(c1) as tfl.SymbolicTensor;
  const act = tfl.layers.leakyReLU({ alpha: 0.01 }).apply(bn) as tfl.SymbolicTensor;
  const c2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotNormal({ seed: seed + 1 }) }).apply(act) as tfl.SymbolicTensor;
  const res = tfl.layers.add().apply([c2, act]) as tfl.SymbolicTensor;
  const head = tfl.layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: seed + 2 }) }).apply(res) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: head });
  const extra = tf.variable(tf.tensor1d([0.5, -1.5]), true, `extra_${seed}`);
  return { model, extra };
}

function loss(model: tfl.LayersModel, extra: tf.Variable, x: tf.Tensor, y: tf.Tensor, checkpoint = false): tf.Scalar {
  // Scaled by a variable so that the probe sits on the path: its gradient runs last.
  const px = probe(tf.mul(x, tf.slice(extra, [1], [1])));
  const out = (checkpoint ? applyWithCheckpoints(model, px, { training: true, segmentOf: (n) => (/^conv2d_/.test(n) ? undefined : 'mid') }) : model.apply(px, { training: true })) as tf.Tensor;
  const [a, b] = tf.split(out, 2, -1);
  const scaled = tf.add(tf.mul(a!, tf.slice(extra, [0], [1])), tf.mul(b!, tf.slice(extra, [1], [1])));
  // Not on the path to the loss's gradients: a statistic the walk must free without using.
  tf.mean(tf.square(out)).dataSync();
  return tf.add(tf.losses.sigmoidCrossEntropy(y, scaled), tf.mul(tf.sum(tf.square(extra)), 0.01)) as tf.Scalar;
}

function read(grads: tf.NamedTensorMap, vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
}

describe('variableGradsFreeing', () => {
  const rng = new Rng(3);
  const x = tf.tensor(Float32Array.from({ length: 2 * 8 ** 2 * 2 }, () => rng.normal()), [2, 8, 8, 2]);
  const y = tf.tensor(Float32Array.from({ length: 2 * 8 ** 2 }, () => (rng.bool() ? 1 : 0)), [2, 8, 8, 1]);

  it('gives the gradients of tf.variableGrads bit for bit, with and without checkpointing, holding less at the end of the backward pass, no leak', () => {
    for (const checkpoint of [false, true]) {
      const { model, extra } = net(5);
      const vars = [...model.trainableWeights.map((w) => w.read() as tf.Variable), extra];
      const ref = tf.variableGrads(() => loss(model, extra, x, y, checkpoint), vars);
      const refBytes = bytesAtProbe;
      const refRead = read(ref.grads, vars);
      const refLoss = ref.value.dataSync()[0];
      tf.dispose([ref.value, ...Object.values(ref.grads)]);

      const before = tf.memory().numTensors;
      const got = variableGradsFreeing(() => loss(model, extra, x, y, checkpoint), vars);
      const gotBytes = bytesAtProbe;
      expect(got.value.dataSync()[0]).toBe(refLoss);
      expect(Object.keys(got.grads).sort()).toEqual(vars.map((v) => v.name).sort());
      const gotRead = read(got.grads, vars);
      gotRead.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(refRead[i]!)));
      tf.dispose([got.value, ...Object.values(got.grads)]);
      expect(tf.memory().numTensors).toBe(before);
      // tfjs-core's walk still holds every activation and gradient there; this one holds
      // only the input's gradient and what the last ops need.
      expect(gotBytes).toBeLessThan(0.8 * refBytes);
      model.dispose();
      extra.dispose();
    }
  });

  it('takes a seed gradient without disposing it, returns null for an unconnected x, and refuses to nest in a recording tape', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor1d([4]));
    const dy = tf.tensor1d([1, 0.5, -1]);
    const before = tf.memory().numTensors;
    const { value, grads } = gradientsFreeing(() => tf.mul(tf.square(a), 3), [a, b], dy);
    expect(Array.from(grads[0]!.dataSync())).toEqual([6, 6, -18]);
    expect(grads[1]).toBeNull();
    expect(dy.isDisposed).toBe(false);
    tf.dispose([value, grads[0]!]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tf.variableGrads(() => gradientsFreeing(() => tf.sum(a), [a]).value as tf.Scalar, [a])).toThrow(
      'gradientsFreeing: called while a tape is recording (higher-order gradients are not supported)',
    );
    tf.dispose([a, b, dy]);
  });
});
