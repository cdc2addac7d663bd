/**
 * Shared fixtures of the augmentation and sampling tests (not exported by the package).
 */
import type { CaseData, Sample, Shape3, TargetEncoding } from '@voxseg/core';

/** The deterministic test values of scripts/golden_augment.py's `channel(shape, c)`, as float32. */
export function goldenChannel(shape: Shape3, c: number): Float32Array {
  const n = shape[0] * shape[1] * shape[2];
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37 + c) * 2 + Math.cos(i * 0.11 * (c + 1)) + 0.1 * c;
  return x;
}

/** Interleave single-channel arrays into a channels-last image. */
export function interleave(channels: Float32Array[]): Float32Array {
  const C = channels.length;
  const n = channels[0]!.length;
  const out = new Float32Array(n * C);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) out[i * C + c] = channels[c]![i]!;
  return out;
}

/** Channel `c` of a channels-last image. */
export function channelOf(image: Float32Array, C: number, c: number): Float32Array {
  const out = new Float32Array(image.length / C);
  for (let i = 0; i < out.length; i++) out[i] = image[i * C + c]!;
  return out;
}

/** A small sample with two channels and a label. */
export function makeSample(shape: Shape3 = [6, 7, 8], channels = 2): Sample {
  const chans = Array.from({ length: channels }, (_, c) => goldenChannel(shape, c));
  const n = shape[0] * shape[1] * shape[2];
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) label[i] = [0, 1, 2, 4][i % 4]!;
  return { image: interleave(chans), shape: [...shape], channels, label };
}

/**
 * BraTS regions WT={1,2,4}, TC={1,4}, ET={4} written locally so these tests do not depend on
 * the regions module (owned elsewhere); the provider only sees the TargetEncoding contract.
 */
export const testRegions: TargetEncoding = {
  channels: ['WT', 'TC', 'ET'],
  encode(label: Uint8Array): Uint8Array {
    const out = new Uint8Array(label.length * 3);
    for (let i = 0; i < label.length; i++) {
      const v = label[i]!;
      out[i * 3] = v === 1 || v === 2 || v === 4 ? 1 : 0;
      out[i * 3 + 1] = v === 1 || v === 4 ? 1 : 0;
      out[i * 3 + 2] = v === 4 ? 1 : 0;
    }
    return out;
  },
  decode(): Uint8Array {
    throw new Error('not used in these tests');
  },
};

/**
 * A case whose image channel 0 equals its label (so spatial alignment can be checked through
 * the image) and channel 1 a smooth ramp; the label is a few boxes of classes 1, 2 and 4.
 */
export function makeCase(shape: Shape3, id = 'case', boxes: { start: Shape3; end: Shape3; value: number }[] = []): CaseData {
  const [D, H, W] = shape;
  const label = new Uint8Array(D * H * W);
  for (const b of boxes) {
    for (let d = b.start[0]; d < b.end[0]; d++) for (let h = b.start[1]; h < b.end[1]; h++) for (let w = b.start[2]; w < b.end[2]; w++) label[(d * H + h) * W + w] = b.value;
  }
  const image = new Float32Array(D * H * W * 2);
  for (let i = 0; i < label.length; i++) {
    image[i * 2] = label[i]!;
    image[i * 2 + 1] = 1 + (i % 97) / 97;
  }
  return {
    meta: { id, affine: [], spacing: [1, 1, 1], originalShape: shape, cropBox: { start: [0, 0, 0], end: shape }, modalities: ['a', 'b'], files: {} },
    image,
    shape: [D, H, W, 2],
    label,
  };
}
