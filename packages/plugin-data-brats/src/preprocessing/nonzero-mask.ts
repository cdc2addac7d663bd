import type { Box3, Shape3 } from '@voxseg/core';

/**
 * The brain mask nnU-Net crops and normalises with (`create_nonzero_mask`): voxels where
 * any channel is non-zero, with enclosed holes filled. 1 inside, 0 outside.
 */
export function nonzeroMask(channels: readonly ArrayLike<number>[], shape: Shape3): Uint8Array {
  const n = shape[0] * shape[1] * shape[2];
  const mask = new Uint8Array(n);
  for (const c of channels) {
    if (c.length !== n) throw new RangeError(`nonzeroMask: a channel has ${c.length} voxels, shape ${shape.join('x')} needs ${n}`);
    for (let i = 0; i < n; i++) if (c[i] !== 0) mask[i] = 1;
  }
  return fillHoles(mask, shape);
}

/**
 * scipy's `binary_fill_holes` with its default structure: background voxels that cannot be
 * reached from outside the array through 6-connected background become foreground.
 * Returns a new mask.
 */
export function fillHoles(mask: Uint8Array, shape: Shape3): Uint8Array {
  const [D, H, W] = shape;
  const n = D * H * W;
  const HW = H * W;
  // 0 = foreground, 1 = background not (yet) reached, 2 = background reached from outside.
  const state = new Uint8Array(n);
  for (let i = 0; i < n; i++) state[i] = mask[i] ? 0 : 1;
  const stack = new Int32Array(n);
  let top = 0;
  const seed = (i: number) => {
    if (state[i] === 1) { state[i] = 2; stack[top++] = i; }
  };
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      const row = z * HW + y * W;
      if (z === 0 || z === D - 1 || y === 0 || y === H - 1) {
        for (let x = 0; x < W; x++) seed(row + x);
      } else {
        seed(row);
        seed(row + W - 1);
      }
    }
  }
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % W, y = ((i - x) / W) % H, z = (i - x - y * W) / HW;
    if (x > 0) seed(i - 1);
    if (x < W - 1) seed(i + 1);
    if (y > 0) seed(i - W);
    if (y < H - 1) seed(i + W);
    if (z > 0) seed(i - HW);
    if (z < D - 1) seed(i + HW);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = state[i] === 2 ? 0 : 1;
  return out;
}

/** Bounding box of the non-zero voxels of a mask (end exclusive), or null when it is empty. */
export function boundingBox(mask: ArrayLike<number>, shape: Shape3): Box3 | null {
  const [D, H, W] = shape;
  let z0 = D, z1 = -1, y0 = H, y1 = -1, x0 = W, x1 = -1;
  let i = 0;
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      let rowAny = false;
      for (let x = 0; x < W; x++, i++) {
        if (mask[i] !== 0) {
          rowAny = true;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
        }
      }
      if (rowAny) {
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (z < z0) z0 = z;
        if (z > z1) z1 = z;
      }
    }
  }
  if (z1 < 0) return null;
  return { start: [z0, y0, x0], end: [z1 + 1, y1 + 1, x1 + 1] };
}
