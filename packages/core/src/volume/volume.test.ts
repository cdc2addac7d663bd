import { describe, expect, it } from 'vitest';
import golden from './resample.golden.json' with { type: 'json' };
import { boundingBoxNonZero, unionBox } from './bounding-box.js';
import { extractChannel, splitChannels, stackChannels } from './channels.js';
import { cropToBox, pasteIntoGrid } from './crop.js';
import { flipAxes, flipAxesInto } from './flip.js';
import { padToShape, unpad } from './pad.js';
import { downsampleNearest, resampleNearest } from './resample.js';
import { roundHalfEven } from './round-half-even.js';
import type { Box3, Shape3 } from './types.js';

/** [D,H,W,C] volume whose value encodes its own coordinates, so any misplacement shows. */
function coded(shape: Shape3, channels: number): Float32Array {
  const [D, H, W] = shape;
  const out = new Float32Array(D * H * W * channels);
  let i = 0;
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < channels; c++) out[i++] = 1 + z * 1000 + y * 100 + x * 10 + c;
  return out;
}
const at = (d: ArrayLike<number>, s: Shape3, C: number, z: number, y: number, x: number, c = 0) =>
  d[((z * s[1] + y) * s[2] + x) * C + c];

describe('cropToBox / pasteIntoGrid', () => {
  const shape: Shape3 = [5, 6, 7];
  const box: Box3 = { start: [1, 2, 3], end: [4, 5, 7] };

  it('crops exactly the box, every channel, keeping the array type', () => {
    const data = coded(shape, 2);
    const out = cropToBox(data, shape, box, 2);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(3 * 3 * 4 * 2);
    expect(at(out, [3, 3, 4], 2, 0, 0, 0, 0)).toBe(at(data, shape, 2, 1, 2, 3, 0));
    expect(at(out, [3, 3, 4], 2, 2, 2, 3, 1)).toBe(at(data, shape, 2, 3, 4, 6, 1));
  });

  it('paste is the inverse of crop inside the box and fills outside', () => {
    const data = Uint8Array.from(coded(shape, 1), (v) => v % 251);
    const back = pasteIntoGrid(cropToBox(data, shape, box), box, shape, 1, 9);
    expect(back).toBeInstanceOf(Uint8Array);
    for (let z = 0; z < 5; z++)
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 7; x++) {
          const inside = z >= 1 && z < 4 && y >= 2 && y < 5 && x >= 3;
          expect(at(back, shape, 1, z, y, x)).toBe(inside ? at(data, shape, 1, z, y, x) : 9);
        }
  });

  it('rejects a box outside the grid and a data/shape mismatch with one clear line', () => {
    expect(() => cropToBox(new Float32Array(210), shape, { start: [0, 0, 0], end: [6, 1, 1] })).toThrow(
      /cropToBox\(box\).*does not fit in shape \[5,6,7\]/,
    );
    expect(() => cropToBox(new Float32Array(10), shape, box)).toThrow(/cropToBox\(data\): data has 10 values/);
  });
});

describe('padToShape / unpad', () => {
  it('centres the volume like nnU-Net (floor below, ceil above) and unpads back', () => {
    const shape: Shape3 = [2, 5, 4];
    const data = coded(shape, 3);
    const p = padToShape(data, shape, [5, 4, 8], 3, -1);
    expect(p.shape).toEqual([5, 5, 8]);
    expect(p.box).toEqual({ start: [1, 0, 2], end: [3, 5, 6] });
    expect(at(p.data, p.shape, 3, 0, 0, 0, 0)).toBe(-1);
    expect(at(p.data, p.shape, 3, 1, 0, 2, 2)).toBe(at(data, shape, 3, 0, 0, 0, 2));
    expect(at(p.data, p.shape, 3, 4, 4, 7, 1)).toBe(-1);
    expect(Array.from(unpad(p.data, p.shape, p.box, 3))).toEqual(Array.from(data));
  });

  it('returns the input itself when it is already large enough', () => {
    const data = coded([4, 4, 4], 1);
    const p = padToShape(data, [4, 4, 4], [2, 4, 3]);
    expect(p.data).toBe(data);
    expect(p.box).toEqual({ start: [0, 0, 0], end: [4, 4, 4] });
  });
});

describe('boundingBoxNonZero', () => {
  it('is the union over channels and null when all zero', () => {
    const shape: Shape3 = [4, 5, 6];
    const d = new Int16Array(4 * 5 * 6 * 2);
    expect(boundingBoxNonZero(d, shape, 2)).toBeNull();
    d[((1 * 5 + 3) * 6 + 4) * 2 + 1] = 7; // channel 1 at (1,3,4)
    d[((2 * 5 + 1) * 6 + 2) * 2 + 0] = -3; // channel 0 at (2,1,2)
    expect(boundingBoxNonZero(d, shape, 2)).toEqual({ start: [1, 1, 2], end: [3, 4, 5] });
  });

  it('unionBox covers both boxes', () => {
    const a: Box3 = { start: [1, 2, 3], end: [2, 3, 4] };
    const b: Box3 = { start: [0, 5, 3], end: [1, 6, 9] };
    expect(unionBox(a, b)).toEqual({ start: [0, 2, 3], end: [2, 6, 9] });
    expect(unionBox(null, b)).toEqual(b);
    expect(unionBox(null, null)).toBeNull();
  });
});

describe('flipAxes', () => {
  const shape: Shape3 = [3, 4, 5];
  const data = coded(shape, 2);
  for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2]] as (0 | 1 | 2)[][]) {
    it(`mirrors along [${axes}] and is its own inverse`, () => {
      const f = flipAxes(data, shape, axes, 2);
      for (let z = 0; z < 3; z++)
        for (let y = 0; y < 4; y++)
          for (let x = 0; x < 5; x++)
            for (let c = 0; c < 2; c++) {
              const sz = axes.includes(0) ? 2 - z : z;
              const sy = axes.includes(1) ? 3 - y : y;
              const sx = axes.includes(2) ? 4 - x : x;
              expect(at(f, shape, 2, z, y, x, c)).toBe(at(data, shape, 2, sz, sy, sx, c));
            }
      expect(Array.from(flipAxes(f, shape, axes, 2))).toEqual(Array.from(data));
    });
  }
});

describe('flipAxesInto', () => {
  it('writes into the given buffer and refuses one overlapping the input', () => {
    const shape: Shape3 = [2, 3, 4];
    const data = coded(shape, 1);
    const out = new Float32Array(24);
    expect(flipAxesInto(data, shape, [1, 2], 1, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(flipAxes(data, shape, [1, 2])));
    const big = new Float32Array(30);
    expect(() => flipAxesInto(big.subarray(0, 24), shape, [0], 1, big.subarray(6, 30))).toThrow(/not overlap/);
  });
});

describe('resampleNearest / downsampleNearest (golden: torch nearest-exact, scripts/golden_resample.py)', () => {
  for (const g of golden.resample) {
    it(`[${g.inShape}] -> [${g.outShape}]`, () => {
      const inShape = g.inShape as Shape3;
      const n = inShape[0] * inShape[1] * inShape[2];
      const src = Int32Array.from({ length: n }, (_, i) => i);
      expect(Array.from(resampleNearest(src, inShape, g.outShape as Shape3))).toEqual(g.values);
    });
  }

  it('keeps channels together', () => {
    const shape: Shape3 = [4, 4, 4];
    const data = coded(shape, 3);
    const out = resampleNearest(data, shape, [2, 2, 2], 3);
    expect(at(out, [2, 2, 2], 3, 1, 0, 1, 2)).toBe(at(data, shape, 3, 3, 1, 3, 2));
  });

  for (const g of golden.downsampleShapes) {
    it(`downsample [${g.shape}] x ${g.scale} has Python-rounded shape [${g.outShape}]`, () => {
      const shape = g.shape as Shape3;
      const r = downsampleNearest(new Uint8Array(shape[0] * shape[1] * shape[2]), shape, g.scale);
      expect(r.shape).toEqual(g.outShape);
      expect(r.data.length).toBe(g.outShape[0]! * g.outShape[1]! * g.outShape[2]!);
    });
  }

  it('roundHalfEven matches Python round()', () => {
    for (const { x, round } of golden.rounding) expect(roundHalfEven(x)).toBe(round);
  });
});

describe('channels', () => {
  it('split, extract and stack round-trip', () => {
    const shape: Shape3 = [2, 3, 4];
    const data = coded(shape, 4);
    const parts = splitChannels(data, shape, 4);
    expect(parts).toHaveLength(4);
    expect(Array.from(parts[2]!)).toEqual(Array.from(extractChannel(data, shape, 4, 2)));
    expect(parts[3]![5]).toBe(data[5 * 4 + 3]);
    expect(Array.from(stackChannels(parts, shape))).toEqual(Array.from(data));
    expect(() => extractChannel(data, shape, 4, 4)).toThrow(/channel\): must be an integer in \[0, 3\]/);
  });
});
