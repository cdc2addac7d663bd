import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { createExperiment, setTestBackend } from '@voxseg/core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossesPlugin } from '../plugin.js';
import { bceWithLogits } from './bce-with-logits.js';
import { deepSupervisionLoss, deepSupervisionWeights } from './deep-supervision.js';
import { diceBceLoss } from './dice-bce.js';
import { downsampleTarget, nearestSourceIndex } from './downsample-target.js';
import { softDice } from './soft-dice.js';

// Golden values: scripts/golden_losses.py, PyTorch 1.13 float64 implementing docs/method.md's
// formulas (nnU-Net SoftDiceLoss/DC_and_BCE_loss/MultipleOutputLoss2), BCEWithLogitsLoss,
// and scipy zoom(order=0) for the deep-supervision targets.
const g = JSON.parse(readFileSync(new URL('./golden/losses.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

const t = (values: number[], shape: number[]) => tf.tensor(values, shape);
const scalar = (s: tf.Scalar) => s.dataSync()[0]!;

describe('golden values', () => {
  const shape = g.basic.shape as number[];
  it('bceWithLogits = torch BCEWithLogitsLoss', () => {
    const [x, z] = [t(g.basic.logits, shape), t(g.basic.targets, shape)];
    expect(scalar(bceWithLogits(x, z))).toBeCloseTo(g.basic.bce, 6);
  });

  for (const c of g.basic.cases) {
    it(`softDice batchDice=${c.batchDice} smooth=${c.smooth} doBg=${c.doBg}`, () => {
      const [x, z] = [t(g.basic.logits, shape), t(g.basic.targets, shape)];
      expect(scalar(softDice(x, z, { batchDice: c.batchDice, smooth: c.smooth, doBg: c.doBg }))).toBeCloseTo(c.softDice, 6);
      if (c.doBg) {
        // diceBceLoss and its gradient w.r.t. the logits (torch autograd).
        const f = (l: tf.Tensor) => diceBceLoss(l, z, { batchDice: c.batchDice, smooth: c.smooth });
        expect(scalar(f(x))).toBeCloseTo(c.diceBce, 6);
        const grad = tf.grad(f)(x).dataSync();
        let worst = 0;
        for (let i = 0; i < grad.length; i++) worst = Math.max(worst, Math.abs(grad[i]! - c.diceBceGrad[i]));
        expect(worst).toBeLessThan(1e-6);
      }
    });
  }

  it('large logits: finite and exact, value and gradient', () => {
    const { logits, targets, shape: s, bce, bceGrad } = g.large;
    const x = t(logits, s);
    const z = t(targets, s);
    expect(scalar(bceWithLogits(x, z))).toBeCloseTo(bce, 4);
    const grad = tf.grad((l: tf.Tensor) => bceWithLogits(l, z))(x).dataSync();
    grad.forEach((v, i) => expect(v).toBeCloseTo(bceGrad[i], 6));
    const dc = scalar(diceBceLoss(x, z));
    expect(Number.isFinite(dc)).toBe(true);
  });

  it('deep supervision: weights, nearest indices, downsampled targets and total = reference', () => {
    const ds = g.deepSupervision;
    expect(deepSupervisionWeights(5)).toEqual(ds.weights5.map((w: number) => expect.closeTo(w, 12)));
    expect(deepSupervisionWeights(5).map((w) => w * 15)).toEqual([8, 4, 2, 1, 0].map((v) => expect.closeTo(v, 12)));
    expect(deepSupervisionWeights(1)).toEqual([1]);
    expect([0, 1, 2, 3].map((o) => nearestSourceIndex(o, 8, 4))).toEqual(ds.nearestIndex.factor2);
    expect([0, 1].map((o) => nearestSourceIndex(o, 8, 2))).toEqual(ds.nearestIndex.factor4);
    const target = t(ds.target, ds.targetShape);
    const down2 = downsampleTarget(target, [4, 4, 4]);
    const down4 = downsampleTarget(target, [2, 2, 2]);
    expect(Array.from(down2.dataSync())).toEqual(ds.downsampled[0]);
    expect(Array.from(down4.dataSync())).toEqual(ds.downsampled[1]);
    const heads = ds.heads.map((h: number[], i: number) => t(h, ds.headShapes[i]));
    const loss = deepSupervisionLoss((o, z) => diceBceLoss(o, z), heads, [target]);
    expect(scalar(loss)).toBeCloseTo(ds.loss, 6);
  });
});

describe('behaviour', () => {
  it('empty region: smooth 0 gives dc ~ 0 for a channel empty in target and prediction (nnU-Net), smooth 1 gives ~1', () => {
    const x = tf.fill([1, 2, 2, 2, 1], -20); // predicts nothing
    const z = tf.zeros([1, 2, 2, 2, 1]);
    expect(scalar(softDice(x, z, { smooth: 0 }))).toBeCloseTo(0, 5);
    expect(scalar(softDice(x, z, { smooth: 1 }))).toBeCloseTo(-1, 5);
    // Batch Dice: an ET-free sample does not zero the channel when another sample has ET.
    const zb = tf.concat([tf.zeros([1, 2, 2, 2, 1]), tf.ones([1, 2, 2, 2, 1])]);
    const xb = tf.concat([tf.fill([1, 2, 2, 2, 1], -20), tf.fill([1, 2, 2, 2, 1], 20)]);
    expect(scalar(softDice(xb, zb, { batchDice: true, smooth: 0 }))).toBeCloseTo(-1, 5);
    expect(scalar(softDice(xb, zb, { batchDice: false, smooth: 0 }))).toBeCloseTo(-0.5, 5);
  });

  it('gradient of diceBceLoss matches central finite differences (float64 reference not needed)', () => {
    const shape = [2, 2, 2, 2, 3];
    const n = 48;
    const xv = Float32Array.from({ length: n }, (_, i) => 1.5 * Math.sin(0.9 * i + 0.3));
    const z = tf.tensor(Float32Array.from({ length: n }, (_, i) => (Math.cos(1.7 * i) > 0 ? 1 : 0)), shape);
    for (const batchDice of [true, false]) {
      const f = (l: tf.Tensor) => diceBceLoss(l, z, { batchDice, smooth: 0 });
      const grad = tf.grad(f)(tf.tensor(xv, shape)).dataSync();
      const eps = 1e-2;
      for (let i = 0; i < n; i++) {
        const p = xv.slice(); p[i]! += eps;
        const m = xv.slice(); m[i]! -= eps;
        const num = (scalar(f(tf.tensor(p, shape))) - scalar(f(tf.tensor(m, shape)))) / (2 * eps);
        expect(grad[i]).toBeCloseTo(num, 3);
      }
    }
  });

  it('rejects mismatched shapes with one clear line', () => {
    const x = tf.zeros([1, 2, 2, 2, 3]);
    expect(() => diceBceLoss(x, tf.zeros([1, 2, 2, 2, 2]))).toThrow(/targets shape \[1,2,2,2,2\] differs from logits shape \[1,2,2,2,3\]/);
    expect(() => softDice(tf.zeros([2, 3]), tf.zeros([2, 3]))).toThrow(/rank 5/);
  });

  it('leaks no tensor (value and gradient, deep supervision included)', () => {
    // Explicit weights so the lower head (downsampled-target path) is computed too.
    const outs = [tf.randomNormal([2, 8, 8, 8, 3], 0, 1, 'float32', 1), tf.randomNormal([2, 4, 4, 4, 3], 0, 1, 'float32', 2)];
    const target = tf.cast(tf.greater(tf.randomUniform([2, 8, 8, 8, 3], 0, 1, 'float32', 3), 0.7), 'float32');
    const step = () => {
      const grad = tf.grad((a: tf.Tensor) => deepSupervisionLoss((o, z) => diceBceLoss(o, z), [a, outs[1]!], [target], [0.5, 0.5]))(outs[0]!);
      tf.dispose(grad);
      tf.dispose(bceWithLogits(outs[0]!, target));
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('lossesPlugin factories', () => {
  const exp = createExperiment({ plugins: [lossesPlugin()] });
  it('registers bce, soft-dice, dice-bce and deep-supervision', () => {
    expect(exp.registry('loss').names()).toEqual(['bce', 'deep-supervision', 'dice-bce', 'soft-dice']);
  });

  it('deep-supervision wraps another loss by name and equals the function form', () => {
    const ds = g.deepSupervision;
    const heads = ds.heads.map((h: number[], i: number) => t(h, ds.headShapes[i]));
    const target = t(ds.target, ds.targetShape);
    const factory = exp.get('loss', 'deep-supervision');
    const loss = factory.create({ ...factory.defaults }, exp);
    expect(scalar(loss.compute(heads, [target]))).toBeCloseTo(ds.loss, 6);
    const diceBce = exp.get('loss', 'dice-bce');
    const single = diceBce.create({ ...diceBce.defaults }, exp);
    expect(() => single.compute(heads, [target])).toThrow(/wrap|deep-supervision/);
    expect(scalar(single.compute([heads[0]], [target]))).toBeCloseTo(scalar(diceBceLoss(heads[0], target)), 7);
  });
});
