import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyWithCheckpoints, createExperiment, Rng, setTestBackend } from '@voxseg/core';
import { buildPreset, unetDecoderStageOf, unetPlugin } from '@voxseg/plugin-unet';
import { beforeAll, describe, expect, it } from 'vitest';
import { axialAttentionPlugin } from '../index.js';

beforeAll(async () => {
  await setTestBackend();
});

/** BL+AA at patch 16 (3 stages; attention after both decoder upsamplings), 2 base filters. */
function tinyBlAa(): tfl.LayersModel {
  const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin()] });
  return buildPreset(exp, 'BL+AA', { inChannels: 2, outChannels: 3, patchSize: 16, baseFilters: 2, seed: 4, norm: 'group', groups: 1 });
}

function lossAndGrads(model: tfl.LayersModel, x: tf.Tensor, ys: tf.Tensor[], checkpoint: boolean): { loss: number; grads: Float32Array[] } {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const out = checkpoint ? applyWithCheckpoints(model, x, { training: true, segmentOf: unetDecoderStageOf }) : model.apply(x, { training: true });
    const outs = Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
    return tf.addN(outs.map((o, i) => tf.losses.sigmoidCrossEntropy(ys[i]!, o))) as tf.Scalar;
  }, vars);
  const loss = value.dataSync()[0]!;
  const read = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: read };
}

describe('BL+AA with the decoder checkpointed', () => {
  it('has the gradients of the plain forward (attention layers recomputed inside their stage), no leak', () => {
    const plain = tinyBlAa();
    const ckpt = tinyBlAa();
    // The attention layer (lower stages only: stage 0 has none) is part of the stage it follows.
    expect(plain.layers.filter((l) => /axial_attention$/.test(l.name)).map((l) => unetDecoderStageOf(l.name))).toEqual(['dec1']);
    const rng = new Rng(9);
    const x = tf.tensor(Float32Array.from({ length: 2 * 16 ** 3 * 2 }, () => rng.normal()), [2, 16, 16, 16, 2]);
    const ys = plain.outputs.map((o) => {
      const s = [2, ...(o.shape.slice(1) as number[])];
      return tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s);
    });
    const a = lossAndGrads(plain, x, ys, false);
    const before = tf.memory().numTensors;
    const b = lossAndGrads(ckpt, x, ys, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(a.loss));
    expect(b.grads.length).toBe(a.grads.length);
    let worst = 0;
    for (let i = 0; i < a.grads.length; i++) {
      let d = 0;
      let m = 0;
      a.grads[i]!.forEach((v, k) => {
        d = Math.max(d, Math.abs(v - b.grads[i]![k]!));
        m = Math.max(m, Math.abs(v));
      });
      worst = Math.max(worst, m === 0 ? d : d / m);
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, ...ys]);
    plain.dispose();
    ckpt.dispose();
  });
});
