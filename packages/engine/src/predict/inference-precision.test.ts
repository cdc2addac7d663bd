import * as tf from '@tensorflow/tfjs-core';
import { inferencePrecision, nativeCapabilities, registerNativeBackend } from '@voxseg/backend-native';
import { describe, expect, it } from 'vitest';
import { defaultExperimentConfig } from '../config/experiment-config.js';
import { parseConfigLayer, resolveExperimentConfig } from '../config/validate-config.js';
import { applyInferencePrecision } from './inference-precision.js';

describe('inference.precision (config key)', () => {
  it('defaults to fp32, accepts bf16, refuses anything else in one line naming the key', () => {
    expect(defaultExperimentConfig().inference.precision).toBe('fp32');
    expect(resolveExperimentConfig([parseConfigLayer({ inference: { precision: 'bf16' } }, 'exp.json')]).inference.precision).toBe('bf16');
    expect(() => parseConfigLayer({ inference: { precision: 'fp16' } }, 'exp.json')).toThrow('exp.json: inference.precision: expected fp32 or bf16, got "fp16"');
  });
});

describe('applyInferencePrecision', () => {
  it('fp32 off native sets nothing; bf16 off native is refused in one line', async () => {
    const restore = await applyInferencePrecision('fp32', 'cpu');
    restore();
    await expect(applyInferencePrecision('bf16', 'cpu')).rejects.toThrow(
      'inference.precision bf16: needs the native backend (oneDNN bf16 convolutions), the active backend is cpu; use --backend native or --precision fp32',
    );
  });

  it.skipIf(!registerNativeBackend().available)('bf16 on native follows the CPU\'s probe; fp32 stays in force after a refusal', async () => {
    await tf.setBackend('native');
    const caps = nativeCapabilities();
    if (caps.bf16) {
      const restore = await applyInferencePrecision('bf16', 'native');
      expect(inferencePrecision()).toBe('bf16');
      restore();
    } else {
      await expect(applyInferencePrecision('bf16', 'native')).rejects.toThrow(`this CPU has no bf16 convolutions (oneDNN ISA ${caps.isa}; needs AVX512-BF16 or AMX)`);
    }
    expect(inferencePrecision()).toBe('fp32');
  });
});
