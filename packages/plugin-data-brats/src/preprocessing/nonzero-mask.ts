import type { Box3, Shape3 } from '@voxseg/core';
import { boundingBoxNonZero, cropToBox } from '@voxseg/core';

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
  // Work on a copy padded by one voxel of "outside" on every side: every interior voxel then
  // has 6 in-range neighbours, so the flood fill needs no coordinate arithmetic.
  const PW = W + 2, PH = H + 2, PD = D + 2;
  const PHW = PH * PW;
  // 0 = foreground, 1 = background not (yet) reached, 2 = outside / reached from outside.
  const state = new Uint8Array(PD * PHW).fill(2);
  for (let z = 0, i = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      let p = (z + 1) * PHW + (y + 1) * PW + 1;
      for (let x = 0; x < W; x++, i++, p++) state[p] = mask[i] ? 0 : 1;
    }
  }
  const stack = new Int32Array(Math.max(16, D * H * W));
  let top = 0;
  // Seed: background voxels on the faces of the (unpadded) array.
  for (let z = 1; z <= D; z++) {
    for (let y = 1; y <= H; y++) {
      const row = z * PHW + y * PW;
      const face = z === 1 || z === D || y === 1 || y === H;
      for (let x = 1; x <= W; x += face ? 1 : Math.max(1, W - 1)) {
        const p = row + x;
        if (state[p] === 1) { state[p] = 2; stack[top++] = p; }
      }
    }
  }
  const steps = [1, -1, PW, -PW, PHW, -PHW];
  while (top > 0) {
    const p = stack[--top]!;
    for (let k = 0; k < 6; k++) {
      const q = p + steps[k]!;
      if (state[q] === 1) { state[q] = 2; stack[top++] = q; }
    }
  }
  const out = new Uint8Array(D * H * W);
  for (let z = 0, i = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      let p = (z + 1) * PHW + (y + 1) * PW + 1;
      for (let x = 0; x < W; x++, i++, p++) out[i] = state[p] === 2 ? 0 : 1;
    }
  }
  return out;
}

/**
 * The brain mask cropped to its bounding box, computed without flooding the whole volume:
 * the union of non-zero voxels gives the box (filling holes never grows it), and hole
 * filling inside the box is the same as in the whole array because every background voxel
 * outside the box is connected to the array border. Returns the box (the whole volume when
 * every voxel is zero) and the hole-filled mask inside it.
 */
export function croppedBrainMask(channels: readonly ArrayLike<number>[], shape: Shape3): { box: Box3; mask: Uint8Array } {
  const n = shape[0] * shape[1] * shape[2];
  const union = new Uint8Array(n);
  for (const c of channels) {
    if (c.length !== n) throw new RangeError(`croppedBrainMask: a channel has ${c.length} voxels, shape ${shape.join('x')} needs ${n}`);
    for (let i = 0; i < n; i++) if (c[i] !== 0) union[i] = 1;
  }
  const box = boundingBoxNonZero(union, shape) ?? { start: [0, 0, 0], end: [...shape] };
  const size: Shape3 = [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
  return { box, mask: fillHoles(cropToBox(union, shape, box), size) };
}

