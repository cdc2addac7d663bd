/**
 * A NUMERICAL EMULATION of bf16 inference convolutions, for the fp32/bf16 label-agreement
 * check only (`voxseg bench bf16-agreement --emulate`) on CPUs without bf16 convolutions.
 * It is never what `--precision bf16` runs: that path uses oneDNN's bf16 primitive or refuses.
 *
 * What it computes: each inference convolution that would run in bf16 gets its input and
 * weights rounded to bfloat16 (round to nearest even, as oneDNN's f32->bf16 reorder) and then
 * runs the fp32 primitive. A bf16 convolution with f32 accumulation computes exactly these
 * products (a bf16 x bf16 product is exact in f32) and differs only in summation order.
 * @packageDocumentation
 */

let emulating = false;

/**
 * Turn the emulation on or off (process-wide). Only for the agreement check; slower than fp32
 * (a rounded copy of every input and filter per call).
 */
export function setBf16EmulationForAgreementCheck(on: boolean): void {
  emulating = on;
}

/** Whether {@link setBf16EmulationForAgreementCheck} is on. */
export function bf16EmulationForAgreementCheck(): boolean {
  return emulating;
}

/**
 * Round float32 values to the nearest bfloat16 (ties to even), kept as float32: the upper 16
 * bits of the rounded value, the lower 16 zero. NaN stays NaN, infinities stay infinite.
 */
export function roundToBf16(src: Float32Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const d = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < s.length; i++) {
    const b = s[i]!;
    if ((b & 0x7f800000) === 0x7f800000) {
      // Inf stays; NaN keeps a mantissa bit in the upper half so it does not become Inf.
      d[i] = (b & 0x007fffff) === 0 ? b : (b | 0x00400000) & 0xffff0000;
    } else {
      d[i] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
    }
  }
  return dst;
}
