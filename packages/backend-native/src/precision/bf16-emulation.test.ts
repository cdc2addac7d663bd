import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@voxseg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { randn, relError, runOn, status } from '../__tests__/compare.js';
import { CONV3D_INFERENCE } from '../kernels/conv3d-inference.js';
import { roundToBf16, setBf16EmulationForAgreementCheck } from './bf16-emulation.js';
import { inferencePrecision } from './inference-precision.js';

const bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0]!;
const fromBits = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0]!;

describe('roundToBf16 (ties to even, as oneDNN\'s f32->bf16 conversion)', () => {
  it('matches hand-derived bit patterns', () => {
    // Golden values from the IEEE-754 layout: bf16 keeps sign, exponent and the top 7 mantissa
    // bits; the dropped 16 bits decide the rounding (0x8000 is the tie).
    const cases: [number, number][] = [
      [0x3f800000, 0x3f800000], // 1 exactly
      [0x3f808000, 0x3f800000], // 1 + 2^-8: tie, lower is even -> 1
      [0x3f818000, 0x3f820000], // 1 + 3*2^-8: tie, upper is even -> 1 + 2^-6
      [0x3f808001, 0x3f810000], // just above the tie -> up
      [0x3f807fff, 0x3f800000], // just below the tie -> down
      [0xbf808001, 0xbf810000], // negative: the same on the magnitude
      [0x7f7fffff, 0x7f800000], // the largest float rounds to +Inf, as in bf16
      [0x7f800000, 0x7f800000], // +Inf stays
      [0x00000001, 0x00000000], // the smallest subnormal rounds to 0
    ];
    const src = new Float32Array(cases.map(([a]) => fromBits(a)));
    const got = roundToBf16(src);
    cases.forEach(([, want], i) => expect(bits(got[i]!).toString(16), `case ${i}`).toBe(want.toString(16)));
    expect(Number.isNaN(roundToBf16(new Float32Array([fromBits(0x7f800001)]))[0])).toBe(true); // NaN stays NaN, not Inf
    expect(src[1]).toBe(fromBits(0x3f808000)); // the input is not modified
  });
});

describe.skipIf(!status.available)('the agreement check\'s bf16 emulation in the inference conv', () => {
  afterEach(() => setBf16EmulationForAgreementCheck(false));

  it('equals the fp32 conv of bf16-rounded input and weights on blocked layers, and leaves the image input layer alone', () => {
    const rng = new Rng('bf16 emulation');
    const conv = (x: tf.Tensor, w: tf.Tensor) => () => tf.engine().runKernel(CONV3D_INFERENCE, { x, filter: w }, { strides: [1, 1, 1], pad: 'same', negativeSlope: 0.01 } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const x = randn(rng, [1, 5, 4, 6, 16]);
    const w = randn(rng, [3, 3, 3, 16, 8], 0.1);
    const [plain] = runOn('native', conv(x, w));
    const xr = tf.tensor(roundToBf16(x.dataSync() as Float32Array), x.shape);
    const wr = tf.tensor(roundToBf16(w.dataSync() as Float32Array), w.shape);
    const [rounded] = runOn('native', conv(xr, wr));
    setBf16EmulationForAgreementCheck(true);
    const [emulated] = runOn('native', conv(x, w));
    expect(inferencePrecision()).toBe('fp32'); // the emulation is not the user's bf16
    expect(Array.from(emulated!.data)).toEqual(Array.from(rounded!.data));
    const err = relError(emulated!.data, plain!.data);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(1e-2);
    // 4 input channels (the image): channels-last fp32 with or without the emulation, as with real bf16.
    const x4 = randn(rng, [1, 5, 4, 6, 4]);
    const w4 = randn(rng, [3, 3, 3, 4, 8], 0.1);
    const [emul4] = runOn('native', conv(x4, w4));
    setBf16EmulationForAgreementCheck(false);
    const [plain4] = runOn('native', conv(x4, w4));
    expect(Array.from(emul4!.data)).toEqual(Array.from(plain4!.data));
    tf.dispose([x, w, xr, wr, x4, w4]);
  });
});
