import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { Experiment, Rng, selectBackend } from '@voxseg/core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPreset } from '../architectures/build-preset.js';
import { BatchNormalization5D } from '../layers/batch-normalization-5d.js';
import { Conv3DBias } from '../layers/conv3d-bias.js';
import { NATIVE_CONV3D_INFERENCE_KERNEL } from '../layers/conv3d-bias.js';
import { unetPlugin } from '../plugin.js';
import { prepareForInference } from './prepare-for-inference.js';

// The prepared model must predict what the model as trained predicts: the same sigmoid
// probabilities within 1e-4 (the tolerance), on the pure-JS cpu backend and, where
// @voxseg/backend-native is built, on its fused inference kernels.
const nativeReady = await selectBackend('native').then(
  () => tf.getKernel(NATIVE_CONV3D_INFERENCE_KERNEL, 'native') !== undefined,
  () => false,
);
afterAll(async () => {
  await tf.setBackend('cpu');
});
const backends = nativeReady ? ['cpu', 'native'] : ['cpu'];

/** A small U-Net of a preset (3 stages at 16^3, 4..16 filters) with every weight drawn from a seeded Rng. */
function smallNet(variant: string, seed: string, widths: { baseFilters: number; maxFilters: number; stages: number } = { baseFilters: 4, maxFilters: 16, stages: 3 }, convScale = 0.3): tfl.LayersModel {
  const model = buildPreset(new Experiment().use(unetPlugin()), variant, {
    inChannels: 2,
    outChannels: 3,
    patchSize: 16,
    ...widths,
    deepSupervision: true,
    seed: 1,
  });
  // Non-trivial BatchNorm statistics and affine parameters, and non-zero transposed convs and
  // heads (the builder zero-initialises those): otherwise folding would be tested on identities.
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.getWeights().map((w, i) => {
      const n = w.size;
      const isVariance = layer instanceof BatchNormalization5D && i === 3;
      const data = Float32Array.from({ length: n }, () => (isVariance ? 0.2 + 2 * rng.next() : rng.normal() * (w.rank === 5 ? convScale : 0.5)));
      return tf.tensor(data, w.shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

function probabilities(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  const out = model.predict(x) as tf.Tensor | tf.Tensor[];
  const first = Array.isArray(out) ? out[0]! : out;
  const p = tf.sigmoid(first);
  const data = p.dataSync() as Float32Array;
  tf.dispose([p, ...(Array.isArray(out) ? out : [out])]);
  return Float32Array.from(data);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('prepareForInference', () => {
  for (const backend of backends) {
    for (const variant of ['BL', 'BL+GN']) {
      it(`${variant} on ${backend}: same probabilities as the model as trained (within 1e-4), no tensor leak`, async () => {
        await tf.setBackend(backend);
        const model = smallNet(variant, `${variant} weights`);
        const rng = new Rng(`${variant} input`);
        const x = tf.tensor5d(Float32Array.from({ length: 2 * 16 ** 3 * 2 }, () => rng.normal()), [2, 16, 16, 16, 2]);
        const before = probabilities(model, x);
        const weightsBefore = model.getWeights().map((w) => Array.from(w.dataSync()));

        const prepared = await prepareForInference(model);
        const tensors = tf.memory().numTensors;
        const after = probabilities(prepared, x);
        expect(tf.memory().numTensors).toBe(tensors);
        expect(after.length).toBe(before.length);
        const diff = maxAbsDiff(after, before);
        expect(diff).toBeLessThanOrEqual(1e-4);
        // The input model is untouched.
        expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weightsBefore);

        const kinds = prepared.layers.map((l) => l.getClassName());
        expect(prepared.outputs.length).toBe(1);
        // Each decoder stage's concat went into its first conv (fuseConcat).
        expect(model.layers.some((l) => l.getClassName() === 'Concatenate')).toBe(true);
        expect(kinds).not.toContain('Concatenate');
        expect(kinds).not.toContain(variant === 'BL' ? 'BatchNormalization5D' : 'never');
        if (variant === 'BL') {
          // Every conv -> BatchNorm pair folded: as many convs as before, no norms left.
          const convs = model.layers.filter((l) => l instanceof Conv3DBias).length;
          expect(prepared.layers.filter((l) => l instanceof Conv3DBias).length).toBe(convs);
          expect(prepared.layers.filter((l) => l instanceof Conv3DBias && l.negativeSlope === 0.01).length).toBe(convs);
        } else {
          expect(kinds).toContain('GroupNormalization');
        }
        // No deep-supervision heads beyond the first.
        expect(prepared.layers.filter((l) => /^head/.test(l.name)).map((l) => l.name)).toEqual(['head0']);
        prepared.dispose();
        model.dispose();
        x.dispose();
      });
    }
  }

  // Widths on oneDNN's channel block (16 + 16 into dec0's conv): on native the concat's parts
  // go straight into the convolution's blocked input buffer. That must give the same bits as
  // the conv on the concatenated tensor (fuseConcat: false), and the trained model's result.
  it.skipIf(!nativeReady)('fuseConcat on native, 16 + 16 channels: bit-identical to the unfused copy, within 1e-4 of the model as trained', async () => {
    await tf.setBackend('native');
    // Conv weights at ~He scale for these widths (fan-in 432..864): 0.3 would grow activations
    // layer by layer to logits where float32 rounding alone passes 1e-4.
    const model = smallNet('BL', 'fuse concat weights', { baseFilters: 16, maxFilters: 32, stages: 2 }, 0.06);
    const rng = new Rng('fuse concat input');
    const x = tf.tensor5d(Float32Array.from({ length: 16 ** 3 * 2 }, () => rng.normal()), [1, 16, 16, 16, 2]);
    const before = probabilities(model, x);
    const fused = await prepareForInference(model);
    const unfused = await prepareForInference(model, { fuseConcat: false });
    expect(fused.layers.map((l) => l.getClassName())).not.toContain('Concatenate');
    expect(unfused.layers.map((l) => l.getClassName())).toContain('Concatenate');
    const tensors = tf.memory().numTensors;
    const a = probabilities(fused, x);
    expect(tf.memory().numTensors).toBe(tensors);
    const b = probabilities(unfused, x);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, before)).toBeLessThanOrEqual(1e-4);
    fused.dispose();
    unfused.dispose();
    model.dispose();
    x.dispose();
  });

  it('keeps every output with firstOutputOnly: false, and the copy survives a JSON round trip', async () => {
    await tf.setBackend('cpu');
    const model = smallNet('BL', 'round trip');
    const prepared = await prepareForInference(model, { firstOutputOnly: false });
    expect(prepared.outputs.length).toBe(model.outputs.length);
    const again = await tfl.models.modelFromJSON({ modelTopology: prepared.toJSON(undefined, false) } as unknown as tf.io.ModelJSON);
    const conv = again.getLayer('enc0_0_conv') as Conv3DBias;
    expect(conv.negativeSlope).toBe(0.01);
    again.setWeights(prepared.getWeights());
    const x = tf.ones([1, 16, 16, 16, 2]);
    expect(maxAbsDiff(probabilities(again, x), probabilities(prepared, x))).toBe(0);
    tf.dispose([x]);
    again.dispose();
    prepared.dispose();
    model.dispose();
  });

  it('folds by hand-computable values: conv 1x1x1 -> BatchNorm on a one-voxel input', async () => {
    await tf.setBackend('cpu');
    // y = lrelu(((w x + b) - mean) * gamma / sqrt(var + eps) + beta); with w = 2, b = 1,
    // mean = 3, var = 4 - 1e-5 (so sqrt(var + eps) = 2), gamma = 0.5, beta = -1:
    // x = 5 -> (11 - 3) * 0.25 - 1 = 1; x = -1 -> (-1 - 3) * 0.25 - 1 = -2 -> lrelu 0.1 -> -0.2.
    const input = tfl.input({ shape: [1, 1, 2, 1] });
    const conv = new Conv3DBias({ name: 'c_conv', filters: 1, kernelSize: 1 });
    const bn = new BatchNormalization5D({ name: 'c_norm', negativeSlope: 0.1 });
    const model = tfl.model({ inputs: input, outputs: bn.apply(conv.apply(input)) as tfl.SymbolicTensor });
    conv.setWeights([tf.tensor5d([2], [1, 1, 1, 1, 1]), tf.tensor1d([1])]);
    bn.setWeights([tf.tensor1d([0.5]), tf.tensor1d([-1]), tf.tensor1d([3]), tf.tensor1d([4 - 1e-5])]);
    const prepared = await prepareForInference(model);
    expect(prepared.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv3DBias']);
    const x = tf.tensor5d([5, -1], [1, 1, 1, 2, 1]);
    const y = prepared.predict(x) as tf.Tensor;
    const v = Array.from(y.dataSync());
    expect(v[0]).toBeCloseTo(1, 5);
    expect(v[1]).toBeCloseTo(-0.2, 5);
    tf.dispose([x, y]);
    prepared.dispose();
    model.dispose();
  });
});
