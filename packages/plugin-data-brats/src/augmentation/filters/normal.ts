import type { Rng } from '@voxseg/core';

/**
 * Fast standard normal deviates from an {@link Rng}: Marsaglia & Tsang's ziggurat method
 * ("The Ziggurat Method for Generating Random Variables", J. Stat. Softw. 5(8), 2000), 128
 * layers on 32-bit integers. About 98% of draws cost one `nextUint32` and one multiply, which
 * matters when every voxel of a 128^3 x 4 patch gets noise (Box-Muller's log/sqrt/cos would
 * dominate the augmentation time). The tables are constants computed once.
 */
const M1 = 2147483648; // 2^31
const KN = new Int32Array(128);
const WN = new Float64Array(128);
const FN = new Float64Array(128);
{
  let dn = 3.442619855899;
  let tn = dn;
  const vn = 9.91256303526217e-3;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * M1);
  KN[1] = 0;
  WN[0] = q / M1;
  WN[127] = dn / M1;
  FN[0] = 1;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * M1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / M1;
  }
}
const R = 3.442619855899;

/** One standard normal deviate drawn with the ziggurat method from `rng`. */
export function zigguratNormal(rng: Rng): number {
  const hz = rng.nextUint32() | 0;
  const iz = hz & 127;
  return Math.abs(hz) < KN[iz]! ? hz * WN[iz]! : zigguratSlow(rng, hz, iz);
}

/**
 * Add `sd` times a standard normal deviate to `data[offset]`, `data[offset + stride]`, ...
 * (one channel of a channels-last image). Millions of deviates per patch: the uniform bits come
 * from a local xoshiro128** stream seeded with four draws of `rng` and kept in local variables
 * (no property access per draw), and the ziggurat's fast path is inlined; the rare rejection
 * branch draws from `rng` itself. Deterministic for a given `rng` state.
 */
export function addNormalNoise(rng: Rng, data: Float32Array, offset: number, stride: number, sd: number): void {
  let s0 = rng.nextUint32() | 0, s1 = rng.nextUint32() | 0, s2 = rng.nextUint32() | 0, s3 = rng.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  for (let j = offset; j < data.length; j += stride) {
    // xoshiro128** (Blackman & Vigna), as in core's Rng.
    const m = Math.imul(s1, 5);
    const hz = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const iz = hz & 127;
    const v = (hz < 0 ? -hz : hz) < KN[iz]! ? hz * WN[iz]! : zigguratSlow(rng, hz, iz);
    data[j]! += sd * v;
  }
}

/** The ziggurat's rejection branch for a first draw `hz` that missed the fast path. */
function zigguratSlow(rng: Rng, hz: number, iz: number): number {
  for (;;) {
    const x = hz * WN[iz]!;
    if (iz === 0) {
      // Tail beyond R.
      let xt: number;
      let y: number;
      do {
        xt = -Math.log(1 - rng.next()) / R;
        y = -Math.log(1 - rng.next());
      } while (y + y < xt * xt);
      return hz > 0 ? R + xt : -R - xt;
    }
    if (FN[iz]! + rng.next() * (FN[iz - 1]! - FN[iz]!) < Math.exp(-0.5 * x * x)) return x;
    hz = rng.nextUint32() | 0;
    iz = hz & 127;
    if (Math.abs(hz) < KN[iz]!) return hz * WN[iz]!;
  }
}
