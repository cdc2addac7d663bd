import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BlockContext, createExperiment, type Plugin, Rng, setTestBackend } from '@voxseg/core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNormalization5D, countTrainableParams, GroupNormalization, InstanceNormalization, unetPlugin } from '../index.js';
import { heStd, torchFanIn } from './he-init.js';
import { buildUnet } from './unet.js';
import { resolveUnetOptions, stagesForPatch } from './unet-options.js';

const TINY = { inChannels: 2, outChannels: 3, patchSize: 16, baseFilters: 4 } as const;

beforeAll(async () => {
  await setTestBackend(); // cpu, or VOXSEG_TEST_BACKEND (the native pass)
});

function shapes(model: tfl.LayersModel): number[][] {
  return model.outputs.map((o) => o.shape.slice(1) as number[]);
}

describe('geometry', () => {
  it('derives the stages from the patch: 128 -> 6, 64 -> 5, 48 -> 4, 16 -> 3', () => {
    expect([128, 64, 48, 16].map((e) => stagesForPatch([e, e, e]))).toEqual([6, 5, 4, 3]);
    expect(stagesForPatch([128, 128, 48])).toBe(4);
  });

  it('BL and L widths are data: multiplier, cap and decoder ratio', () => {
    const bl = resolveUnetOptions({ inChannels: 4, outChannels: 3, patchSize: 128 });
    expect(bl.widths).toEqual([32, 64, 128, 256, 320, 320]);
    expect(bl.decoderOutWidths.slice(0, 5)).toEqual([32, 64, 128, 256, 320]);
    const l = resolveUnetOptions({ inChannels: 4, outChannels: 3, patchSize: 128, widthMultiplier: 2, maxFilters: 512, decoderSecondConvRatio: 0.5 });
    expect(l.widths).toEqual([64, 128, 256, 512, 512, 512]);
    // last conv of the decoder stages from 8^3 (stage 4) up to 128^3 (stage 0)
    expect(l.decoderOutWidths.slice(0, 5).reverse()).toEqual([256, 256, 128, 64, 32]);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => resolveUnetOptions({ inChannels: 0, outChannels: 3, patchSize: 16 })).toThrow(/inChannels/);
    expect(() => resolveUnetOptions({ ...TINY, stages: 6 })).toThrow(/not divisible by 2\^5/);
    expect(() => resolveUnetOptions({ ...TINY, norm: 'layer' as never })).toThrow(/norm must be one of/);
  });
});

describe('tiny U-Net (patch 16, 3 stages)', () => {
  it('has one head per decoder stage, highest resolution first, and is batch-size agnostic', () => {
    const model = buildUnet({ ...TINY });
    expect(shapes(model)).toEqual([[16, 16, 16, 3], [8, 8, 8, 3]]);
    expect(model.inputs[0]!.shape).toEqual([null, 16, 16, 16, 2]);
    for (const n of [1, 2]) {
      const x = tf.zeros([n, 16, 16, 16, 2]);
      const ys = model.predict(x) as tf.Tensor[];
      expect(ys.map((y) => y.shape)).toEqual([[n, 16, 16, 16, 3], [n, 8, 8, 8, 3]]);
      tf.dispose([x, ...ys]);
    }
    const single = buildUnet({ ...TINY, deepSupervision: false });
    expect(shapes(single)).toEqual([[16, 16, 16, 3]]);
    // the unused lower head is not built: one head fewer
    expect(countTrainableParams(model) - countTrainableParams(single)).toBe(8 * 3);
    model.dispose();
    single.dispose();
  });

  it('uses the chosen norm layer after every conv', () => {
    for (const [norm, cls] of [['batch', BatchNormalization5D], ['group', GroupNormalization], ['instance', InstanceNormalization]] as const) {
      const model = buildUnet({ ...TINY, norm, initialize: false });
      const norms = model.layers.filter((l) => l.name.endsWith('_norm'));
      expect(norms).toHaveLength(3 * 2 + 2 * 2);
      for (const l of norms) expect(l.constructor).toBe(cls);
      model.dispose();
    }
  });

  it('He init: kaiming normal (a = 0.01) with PyTorch fan-in, zero biases, seeded by the Rng', () => {
    const a = buildUnet({ ...TINY, baseFilters: 8, rng: new Rng(7) });
    const b = buildUnet({ ...TINY, baseFilters: 8, rng: new Rng(7) });
    const c = buildUnet({ ...TINY, baseFilters: 8, rng: new Rng(8) });
    const kernel = (m: tfl.LayersModel, name: string) => m.getLayer(name).getWeights()[0]!;
    // a 3x3x3 conv 16 -> 16 (fan-in 432) and a transposed conv 32 -> 16 (fan-in 16 * 8 = 128)
    for (const [name, fanIn] of [['enc1_1_conv', 432], ['dec1_up', 128]] as const) {
      const k = kernel(a, name);
      expect(torchFanIn(k.shape)).toBe(fanIn);
      const std = tf.tidy(() => tf.sqrt(tf.mean(tf.square(k))).dataSync()[0]!);
      expect(std / heStd(fanIn, 0.01)).toBeGreaterThan(0.93);
      expect(std / heStd(fanIn, 0.01)).toBeLessThan(1.07);
    }
    expect(Array.from(kernel(a, 'enc0_0_conv').dataSync())).toEqual(Array.from(kernel(b, 'enc0_0_conv').dataSync()));
    expect(Array.from(kernel(a, 'enc0_0_conv').dataSync())).not.toEqual(Array.from(kernel(c, 'enc0_0_conv').dataSync()));
    expect(Array.from(a.getLayer('enc0_0_conv').getWeights()[1]!.dataSync()).every((v) => v === 0)).toBe(true);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('leaks no tensor in predict or in a training-mode forward + gradient', () => {
    const model = buildUnet({ ...TINY });
    const x = tf.ones([1, 16, 16, 16, 2]);
    const run = () => {
      tf.dispose(model.predict(x) as tf.Tensor[]);
      const { value, grads } = tf.variableGrads(() =>
        tf.addN((model.apply(x, { training: true }) as tf.Tensor[]).map((y) => tf.mean(y))) as tf.Scalar,
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});

// Golden: scripts/torch_unet.py builds the same two tiny nets in PyTorch 1.13 with weights
// given by a formula of each layer's name, and stores their outputs for an input pattern.
interface TinyCase { options: Record<string, number | string>; inputShape: number[]; outputs: number[][]; outputShapes: number[][] }
const golden = JSON.parse(readFileSync(new URL('./golden/tiny-unet.json', import.meta.url), 'utf8')) as Record<string, TinyCase>;

/** Mirrors `formula` in torch_unet.py. */
function formula(n: number, name: string, kind: string, fanIn = 1): Float32Array {
  let s = 0;
  for (const ch of name) s += ch.charCodeAt(0);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = kind === 'kernel' ? Math.sin(0.61 * i + 0.013 * s) * Math.sqrt(2 / fanIn)
      : kind === 'bias' ? 0.01 * Math.cos(i + 0.01 * s)
      : kind === 'gamma' ? 1 + 0.05 * Math.sin(i + 0.02 * s)
      : 0.02 * Math.cos(0.5 * i + 0.03 * s);
  }
  return v;
}

function setFormulaWeights(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      const kind = w.originalName.split('/').pop()!;
      if (kind.startsWith('moving_')) return kind === 'moving_mean' ? tf.zeros(w.shape as number[]) : tf.ones(w.shape as number[]);
      const n = w.shape.reduce((p: number, q) => p * q!, 1);
      return tf.tensor(formula(n, layer.name, kind, torchFanIn(w.shape as number[])), w.shape as number[]);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function pattern(shape: number[]): tf.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * Math.sin(0.37 * i + 0.11) + 0.3 * Math.cos(0.05 * i);
  return tf.tensor(v, shape);
}

describe('tiny U-Net vs the PyTorch build (scripts/torch_unet.py)', () => {
  for (const [key, c] of Object.entries(golden).filter(([k]) => k !== 'source') as [string, TinyCase][]) {
    it(`${key}: every head matches`, () => {
      const o = c.options;
      const model = buildUnet({
        ...TINY,
        maxFilters: o['max_filters'] as number,
        widthMultiplier: o['mult'] as number,
        decoderSecondConvRatio: o['ratio'] as number,
        norm: o['norm'] as 'batch' | 'group',
        groups: (o['groups'] as number | undefined) ?? 32,
        initialize: false,
      });
      setFormulaWeights(model);
      const x = pattern(c.inputShape);
      const ys = model.apply(x, { training: true }) as tf.Tensor[];
      expect(ys.map((y) => y.shape)).toEqual(c.outputShapes);
      ys.forEach((y, i) => {
        const a = y.dataSync();
        const e = c.outputs[i]!;
        let worst = 0;
        let scale = 0;
        for (let j = 0; j < a.length; j++) {
          worst = Math.max(worst, Math.abs(a[j]! - e[j]!));
          scale = Math.max(scale, Math.abs(e[j]!));
        }
        expect(worst / scale, `head ${i}`).toBeLessThan(1e-4);
      });
      tf.dispose([x, ...ys]);
      model.dispose();
    });
  }
});

describe('decoder.afterUpsample slot', () => {
  it('calls the named block for every decoder stage with its context, before the concat', () => {
    const seen: BlockContext[] = [];
    const probe: Plugin = {
      name: 'probe',
      version: '0.0.0',
      register(ctx) {
        ctx.registerBlock({
          name: 'probe-block',
          defaults: { scale: 1 },
          create(options: { scale: number; tag?: string }, bctx: BlockContext) {
            seen.push(bctx);
            expect(options).toEqual({ scale: 1, tag: 'x' });
            if (bctx.stage === 0) return null; // leave full resolution alone, as axial attention does
            return {
              apply: (t: tfl.SymbolicTensor) => {
                expect(t.shape).toEqual([null, ...bctx.resolution, bctx.channels]);
                return t;
              },
            };
          },
        });
      },
    };
    const exp = createExperiment({ plugins: [unetPlugin(), probe] });
    const model = exp.get('network', 'unet').build({ ...TINY, patchSize: 32, decoderBlock: 'probe-block', decoderBlockOptions: { tag: 'x' }, initialize: false }, exp);
    expect(seen).toEqual([
      { channels: 16, stage: 2, stages: 4, resolution: [8, 8, 8], slot: 'decoder.afterUpsample', namePrefix: 'dec2_slot' },
      { channels: 8, stage: 1, stages: 4, resolution: [16, 16, 16], slot: 'decoder.afterUpsample', namePrefix: 'dec1_slot' },
      { channels: 4, stage: 0, stages: 4, resolution: [32, 32, 32], slot: 'decoder.afterUpsample', namePrefix: 'dec0_slot' },
    ]);
    model.dispose();
  });

  it('places the block output before the concat with the skip, and names unknown blocks clearly', () => {
    const exp = createExperiment({
      plugins: [
        unetPlugin(),
        {
          name: 'scale-block',
          version: '0.0.0',
          register(ctx) {
            ctx.registerBlock({
              name: 'times-zero',
              create: (_o, bctx) => ({
                apply: (t) => {
                  // A real layer: multiplies the upsampled tensor by 0 (a Dense with zero kernel would do too).
                  const layer = new GroupNormalization({ name: `${bctx.namePrefix}_gn`, groups: 1, scale: false, center: false });
                  return layer.apply(t) as tfl.SymbolicTensor;
                },
              }),
            });
          },
        },
      ],
    });
    const model = exp.get('network', 'unet').build({ ...TINY, decoderBlock: 'times-zero', initialize: false }, exp);
    const concat = model.getLayer('dec0_concat');
    const inbound = (concat.inboundNodes[0]!.inboundLayers as tfl.layers.Layer[]).map((l) => l.name);
    expect(inbound).toEqual(['dec0_slot_gn', 'enc0_1_norm']);
    model.dispose();
    expect(() => exp.get('network', 'unet').build({ ...TINY, decoderBlock: 'nope' }, exp)).toThrow(/Unknown block "nope"; registered: .*identity/);
  });
});
