import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { randn, relError, runOn, status } from '../__tests__/compare.js';
import { addon } from '../addon/load-addon.js';
import { CONV3D_INFERENCE } from '../kernels/conv3d-inference.js';
import { bf16Refusal, inferencePrecision, nativeCapabilities, parseInferencePrecision, setInferencePrecision } from './inference-precision.js';

// ISAs from which oneDNN 2.6 has jit bf16 convolutions (emulated on avx512_core, native above).
const BF16_ISAS = ['avx512_core', 'avx512_core_vnni', 'avx512_core_bf16', 'avx512_core_amx'];

describe('parseInferencePrecision', () => {
  it('accepts fp32 and bf16, refuses anything else in one line naming the source', () => {
    expect(parseInferencePrecision('fp32')).toBe('fp32');
    expect(parseInferencePrecision('bf16', 'config inference.precision')).toBe('bf16');
    expect(() => parseInferencePrecision('fp16', 'config inference.precision')).toThrow(/^config inference\.precision: expected fp32 \| bf16, got "fp16"$/);
    expect(() => parseInferencePrecision(16)).toThrow(/^--precision: expected fp32 \| bf16, got 16$/);
  });
});

describe('bf16Refusal', () => {
  it('is one line naming the ISA, what is needed and the way out', () => {
    const line = bf16Refusal({ isa: 'avx2', bf16: false, bf16Impl: '', reason: 'x' });
    expect(line).toBe('--precision bf16: this CPU has no bf16 convolutions (oneDNN ISA avx2; needs AVX512-BF16 or AMX); use --precision fp32');
  });
});

describe.skipIf(!status.available)('nativeCapabilities and --precision bf16 on this CPU', () => {
  afterEach(() => setInferencePrecision('fp32'));
  const caps = nativeCapabilities();

  it('reports oneDNN\'s ISA and a bf16 answer consistent with it', () => {
    expect(caps.isa).toMatch(/^(sse41|avx|avx2|avx2_vnni|avx512_\w+)$/);
    // The probe's answer follows the ISA: oneDNN 2.6 has jit bf16 convolutions exactly from avx512_core.
    expect(caps.bf16).toBe(BF16_ISAS.includes(caps.isa));
    if (caps.bf16) expect(caps.bf16Impl).not.toMatch(/^ref/);
    else expect(caps.reason).toMatch(/oneDNN/);
    expect(nativeCapabilities()).toBe(caps); // probed once
  });

  it.skipIf(caps.bf16)(`refuses bf16 in one line and stays fp32 (${caps.isa})`, () => {
    expect(() => setInferencePrecision('bf16')).toThrow(bf16Refusal(caps));
    expect(inferencePrecision()).toBe('fp32');
    // The addon itself cannot create the primitive here: the probe did not guess.
    const p = new Int32Array([1, 4, 4, 4, 16, 4, 4, 4, 16, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const run = () => addon().conv3dInference(new Float32Array(4 ** 3 * 16), new Float32Array(27 * 256), null, new Float32Array(4 ** 3 * 16), p, Number.NaN, 1, null, undefined, 1);
    expect(run).toThrow(/VoxsegConv3DInference failed in oneDNN/);
  });

  it('the addon refuses an unknown precision code', () => {
    const p = new Int32Array([1, 2, 2, 2, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    expect(() => addon().conv3dInference(new Float32Array(8), new Float32Array(1), null, new Float32Array(8), p, Number.NaN, 0, null, undefined, 2)).toThrow(/precision: expected 0 \(fp32\) or 1 \(bf16\), got 2/);
  });

  it.skipIf(!caps.bf16)('bf16 agrees with fp32 to bf16 rounding and is not fp32 (AVX512-BF16/AMX only)', () => {
    const rng = new Rng('bf16 conv');
    const x = randn(rng, [1, 6, 5, 7, 32]);
    const w = randn(rng, [3, 3, 3, 32, 16], 0.1);
    const b = randn(rng, [16]);
    const conv = () => tf.engine().runKernel(CONV3D_INFERENCE, { x, filter: w, bias: b }, { strides: [1, 1, 1], pad: 'same', negativeSlope: 0.01 } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const [fp32] = runOn('native', conv);
    setInferencePrecision('bf16');
    const [bf16] = runOn('native', conv);
    // bf16 keeps 8 significant bits: inputs and weights off by <= 2^-9 relative each.
    const err = relError(bf16!.data, fp32!.data);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(1e-2);
    tf.dispose([x, w, b]);
  });
});
