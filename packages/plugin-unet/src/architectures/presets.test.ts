import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createExperiment, setTestBackend } from '@voxseg/core';
import { describe, expect, it } from 'vitest';
import { buildPreset, countTrainableParams, readNetworkMetadata, unetPlugin } from '../index.js';

// Reference counts (docs/method.md, counted on the reference PyTorch code; re-derived by
// scripts/torch_unet.py): 4 input channels, 3 outputs, 128^3 patch.
const REFERENCE_COUNTS: Record<string, number> = {
  BL: 31_198_176,
  'BL+GN': 31_198_176,
  'BL+L': 87_413_760,
  'BL+L+GN': 87_413_760,
};

function outputShapes(model: tfl.LayersModel): number[][] {
  return model.outputs.map((o) => o.shape.slice(1) as number[]);
}

describe('presets at 128^3 (symbolic graph, no data)', () => {
  const exp = createExperiment({ plugins: [unetPlugin()] });
  for (const [variant, expected] of Object.entries(REFERENCE_COUNTS)) {
    it(`${variant} has exactly ${expected.toLocaleString('en')} trainable parameters and 5 heads`, () => {
      tf.setBackend('cpu');
      const before = tf.memory().numTensors;
      const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: 128, initialize: false });
      expect(countTrainableParams(model)).toBe(expected);
      expect(outputShapes(model)).toEqual([128, 64, 32, 16, 8].map((e) => [e, e, e, 3]));
      expect(readNetworkMetadata(model)).toMatchObject({ network: 'unet', variant });
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
