import type { Box3, Shape3 } from '@voxseg/core';

/** Shape [D, H, W] of a box. */
export function boxShape(box: Box3): Shape3 {
  return [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
}

/** The whole volume as a box. */
export function fullBox(shape: Shape3): Box3 {
  return { start: [0, 0, 0], end: [...shape] };
}

/**
 * Copy the part of a [D,H,W] volume inside `box` into a new array of the same type.
 * @param data x fastest, length D*H*W of `shape`
 */
export function cropVolume<T extends Float32Array | Uint8Array>(data: T, shape: Shape3, box: Box3): T {
  const [, H, W] = shape;
  const [d, h, w] = boxShape(box);
  const out = new (data.constructor as new (n: number) => T)(d * h * w);
  let o = 0;
  for (let z = box.start[0]; z < box.end[0]; z++) {
    for (let y = box.start[1]; y < box.end[1]; y++) {
      const from = (z * H + y) * W + box.start[2];
      out.set(data.subarray(from, from + w) as never, o);
      o += w;
    }
  }
  return out;
}

/**
 * The inverse of {@link cropVolume}: place a cropped [d,h,w] volume back at `box` inside a new
 * volume of `originalShape`, `fill` elsewhere. Used to write predictions on the input's grid.
 */
export function pasteVolume<T extends Float32Array | Uint8Array>(cropped: T, box: Box3, originalShape: Shape3, fill = 0): T {
  const [D, H, W] = originalShape;
  const [, h, w] = boxShape(box);
  const out = new (cropped.constructor as new (n: number) => T)(D * H * W);
  if (fill !== 0) out.fill(fill);
  let o = 0;
  for (let z = box.start[0]; z < box.end[0]; z++) {
    for (let y = box.start[1]; y < box.start[1] + h; y++) {
      out.set(cropped.subarray(o, o + w) as never, (z * H + y) * W + box.start[2]);
      o += w;
    }
  }
  return out;
}
