import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyWithCheckpoints, combineSegmentOf, Rng, type SegmentOf, setTestBackend } from '@voxseg/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildUnet, unetDecoderStageOf, unetEncoderStageOf } from './unet.js';

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

const TINY = { inChannels: 2, outChannels: 3, patchSize: 16, baseFilters: 2, seed: 3 } as const;

/** Random input and 0/1 targets for every head, from a seeded generator. */
function batch(model: tfl.LayersModel, n: number, seed: number): { x: tf.Tensor; ys: tf.Tensor[] } {
  const rng = new Rng(seed);
  const shape = [n, ...(model.inputs[0]!.shape.slice(1) as number[])];
  const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  const ys = model.outputs.map((o) => {
    const s = [n, ...(o.shape.slice(1) as number[])];
    return tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (rng.bool() ? 1 : 0)), s);
  });
  return { x, ys };
}

/** Loss and gradients of every trainable weight, by name, read out as arrays. */
function lossAndGrads(model: tfl.LayersModel, x: tf.Tensor, ys: tf.Tensor[], checkpoint: boolean | SegmentOf): { loss: number; grads: Float32Array[] } {
  const segmentOf = checkpoint === true ? unetDecoderStageOf : checkpoint === false ? undefined : checkpoint;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const out = segmentOf ? applyWithCheckpoints(model, x, { training: true, segmentOf }) : model.apply(x, { training: true });
    const outs = Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
    return tf.addN(outs.map((o, i) => tf.losses.sigmoidCrossEntropy(ys[i]!, o))) as tf.Scalar;
  }, vars);
  const loss = value.dataSync()[0]!;
  // In the model's weight order (the variables' names differ between two models).
  const read = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: read };
}

/** max |a - b| / max |b| over one weight's gradient (relative to the gradient's scale). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

/** Running statistics (non-trainable weights) as arrays. */
function state(model: tfl.LayersModel): Float32Array[] {
  return model.nonTrainableWeights.map((w) => (w.read() as tf.Tensor).dataSync() as Float32Array);
}

describe('gradient checkpointing of the decoder stages (applyWithCheckpoints + unetDecoderStageOf)', () => {
  it('names the decoder stages and leaves encoder and heads alone', () => {
    const model = buildUnet({ ...TINY });
    const stages = new Set(model.layers.map((l) => unetDecoderStageOf(l.name)).filter(Boolean));
    expect([...stages].sort()).toEqual(['dec0', 'dec1']);
    expect(unetDecoderStageOf('enc0_0_conv')).toBeUndefined();
    expect(unetDecoderStageOf('head1')).toBeUndefined();
    expect(unetDecoderStageOf('dec1_slot_axial_attention')).toBe('dec1');
    model.dispose();
  });

  it('gives the same loss and gradients as model.apply (BL, BatchNorm; GN), updates the running statistics once, leaks nothing', () => {
    for (const norm of ['batch', 'group'] as const) {
      // Two models with the same seed: one step each, so the running-statistics update of the
      // checkpointed run (forward + recomputation) can be compared with the plain one.
      const plain = buildUnet({ ...TINY, norm, groups: 2 });
      const ckpt = buildUnet({ ...TINY, norm, groups: 2 });
      const { x, ys } = batch(plain, 2, 11);
      const a = lossAndGrads(plain, x, ys, false);
      const before = tf.memory().numTensors;
      const b = lossAndGrads(ckpt, x, ys, true);
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(a.loss));
      const ga = a.grads;
      const gb = b.grads;
      expect(gb.length).toBe(ga.length);
      let worst = 0;
      for (let i = 0; i < ga.length; i++) worst = Math.max(worst, relDiff(gb[i]!, ga[i]!));
      expect(worst).toBeLessThanOrEqual(1e-5);
      const sa = state(plain);
      const sb = state(ckpt);
      for (let i = 0; i < sa.length; i++) expect(relDiff(sb[i]!, sa[i]!)).toBeLessThanOrEqual(1e-6);
      // A step leaves the tensor count as it found it, also on the second call (no cached tensors).
      lossAndGrads(ckpt, x, ys, true);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, ...ys]);
      plain.dispose();
      ckpt.dispose();
    }
  });

  it('checkpoints the encoder stages too (unetEncoderStageOf): same loss, gradients and running statistics, no leak', () => {
    expect(unetEncoderStageOf('enc0_1_norm')).toBe('enc0');
    expect(unetEncoderStageOf('dec0_0_conv')).toBeUndefined();
    const both = combineSegmentOf(unetEncoderStageOf, unetDecoderStageOf)!;
    expect([both('enc2_0_conv'), both('dec1_up'), both('head0')]).toEqual(['enc2', 'dec1', undefined]);
    for (const segmentOf of [unetEncoderStageOf, both]) {
      const plain = buildUnet({ ...TINY, norm: 'batch' });
      const ckpt = buildUnet({ ...TINY, norm: 'batch' });
      const { x, ys } = batch(plain, 2, 13);
      const a = lossAndGrads(plain, x, ys, false);
      const before = tf.memory().numTensors;
      const b = lossAndGrads(ckpt, x, ys, segmentOf);
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(a.loss));
      let worst = 0;
      for (let i = 0; i < a.grads.length; i++) worst = Math.max(worst, relDiff(b.grads[i]!, a.grads[i]!));
      expect(worst).toBeLessThanOrEqual(1e-5);
      const sa = state(plain);
      const sb = state(ckpt);
      for (let i = 0; i < sa.length; i++) expect(relDiff(sb[i]!, sa[i]!)).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, ...ys]);
      plain.dispose();
      ckpt.dispose();
    }
  });

  it('equals model.apply in inference mode, where nothing is recorded', () => {
    const model = buildUnet({ ...TINY });
    const { x, ys } = batch(model, 1, 5);
    const before = tf.memory().numTensors;
    const a = model.apply(x) as tf.Tensor[];
    const b = applyWithCheckpoints(model, x, { segmentOf: unetDecoderStageOf }) as tf.Tensor[];
    expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
    for (let i = 0; i < a.length; i++) expect(relDiff(b[i]!.dataSync() as Float32Array, a[i]!.dataSync() as Float32Array)).toBe(0);
    tf.dispose([...a, ...b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...ys]);
    model.dispose();
  });
});
