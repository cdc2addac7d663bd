import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockContext } from '@voxseg/core';
import { axialAttentionBlock, axialAttentionShapeAt } from './axial-attention-block.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctxAt = (stage: number, channels: number, edge: number): BlockContext => ({
  channels,
  stage,
  stages: 6,
  resolution: [edge, edge, edge],
  slot: 'decoder.afterUpsample',
  namePrefix: `dec${stage}_slot`,
});

describe('axial-attention block', () => {
  it('follows the reference heads rule: 2*2^d heads of 8*2^d dims for 1 <= d <= 4', () => {
    expect([0, 1, 2, 3, 4, 5].map((d) => axialAttentionShapeAt(d))).toEqual([
      null,
      { heads: 4, dimHead: 16 },
      { heads: 8, dimHead: 32 },
      { heads: 16, dimHead: 64 },
      { heads: 32, dimHead: 128 },
      null,
    ]);
    expect(axialAttentionBlock.create({}, ctxAt(0, 32, 128))).toBeNull();
    expect(axialAttentionBlock.create({}, ctxAt(5, 320, 4))).toBeNull();
    expect(axialAttentionShapeAt(1, { baseHeads: 1, baseDimHead: 2 })).toEqual({ heads: 2, dimHead: 4 });
    expect(axialAttentionShapeAt(0, { minStage: 0 })).toEqual({ heads: 2, dimHead: 8 });
  });

  it('builds x + attention(posemb(x)) with the expected parameters at each stage', () => {
    const input = tfl.input({ shape: [4, 4, 4, 6] });
    const block = axialAttentionBlock.create({ baseHeads: 1, baseDimHead: 2 }, { ...ctxAt(2, 6, 4), namePrefix: 'p' })!;
    const out = block.apply(input);
    expect(out.shape).toEqual([null, 4, 4, 4, 6]);
    const model = tfl.model({ inputs: input, outputs: out });
    expect(model.layers.map((l) => l.name).slice(1)).toEqual(['p_axial_posemb', 'p_axial_attention', 'p_axial_residual']);
    const hd = 4 * 8; // 4 heads of 8 dims at stage 2
    expect(model.countParams()).toBe(6 * (4 + 4 + 4) + 3 * (4 * 6 * hd + 6));
    // The residual is real: zeroing the attention's weights leaves posemb-free identity.
    const att = model.getLayer('p_axial_attention');
    att.setWeights(att.getWeights().map((w) => tf.zerosLike(w)));
    const x = tf.randomNormal([1, 4, 4, 4, 6], 0, 1, 'float32', 3);
    const y = model.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(y, x))).arraySync()).toBe(0);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('is reproducible from its seed and differs between seeds and between stages', () => {
    const weightsOf = (seed: number, prefix: string) => {
      const input = tfl.input({ shape: [2, 2, 2, 3] });
      const block = axialAttentionBlock.create({ seed, baseHeads: 1, baseDimHead: 1 }, { ...ctxAt(1, 3, 2), namePrefix: prefix })!;
      const model = tfl.model({ inputs: input, outputs: block.apply(input) });
      const v = Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));
      model.dispose();
      return v;
    };
    const a = weightsOf(1, 'dec1_slot');
    expect(weightsOf(1, 'dec1_slot')).toEqual(a);
    expect(weightsOf(2, 'dec1_slot')).not.toEqual(a);
    expect(weightsOf(1, 'dec2_slot')).not.toEqual(a);
  });

  it('rejects bad options and a tensor that does not match its slot context', () => {
    expect(() => axialAttentionBlock.create({ baseHeads: 0 }, ctxAt(1, 8, 8))).toThrow(/baseHeads must be a positive integer/);
    expect(() => axialAttentionBlock.create({ seed: Number.NaN }, ctxAt(1, 8, 8))).toThrow(/seed must be a finite number/);
    const block = axialAttentionBlock.create({}, ctxAt(1, 8, 8))!;
    expect(() => block.apply(tfl.input({ shape: [8, 8, 4, 8] }))).toThrow(/dec1_slot: expected \[N, 8, 8, 8, 8\]/);
  });
});
