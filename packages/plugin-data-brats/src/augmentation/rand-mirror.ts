import { type AugmenterFactory, chance, defineAugmenter, type Rng, type Sample, type Shape3 } from '@voxseg/core';

/** Options of {@link RandMirror}. */
export interface RandMirrorOptions {
  /**
   * Probability of flipping along each axis, drawn independently per axis. Default 0.5
   * (docs/method.md; batchgenerators `MirrorTransform`: `np.random.uniform() < 0.5` per axis).
   */
  pPerAxis?: number;
  /** Spatial axes that may be flipped (0 = D, 1 = H, 2 = W). Default [0, 1, 2] (nnU-Net `mirror_axes`). */
  axes?: number[];
}

/** Defaults of {@link RandMirror}; sources in {@link RandMirrorOptions}. */
export const RAND_MIRROR_DEFAULTS: Required<RandMirrorOptions> = { pPerAxis: 0.5, axes: [0, 1, 2] };

/** Random flips of the read patch along each spatial axis; image and label flipped together. */
export class RandMirror extends defineAugmenter<RandMirrorOptions>({
  name: 'RandMirror',
  kind: 'spatial',
  description: 'Random flips along each spatial axis (DA4: p 0.5 per axis)',
  defaults: RAND_MIRROR_DEFAULTS,
  validate: (o, check) => {
    if (!Array.isArray(o.axes) || o.axes.some((a) => a !== 0 && a !== 1 && a !== 2)) check.invalid('axes', 'must list spatial axes among 0, 1, 2', o.axes);
    return { pPerAxis: check.probability('pPerAxis', o.pPerAxis), axes: [...o.axes] };
  },
}) {
  /** Transform the read patch in place (see the class description). */
  apply(sample: Sample, rng: Rng): void {
    for (const axis of this.options.axes) {
      if (chance(rng, this.options.pPerAxis)) {
        flipAxis(sample.image, sample.shape, sample.channels, axis);
        if (sample.label) flipAxis(sample.label, sample.shape, 1, axis);
      }
    }
  }
}

/** Flip a channels-last [D, H, W, C] array in place along spatial axis 0, 1 or 2. */
export function flipAxis(data: Float32Array | Uint8Array, shape: Shape3, channels: number, axis: number): void {
  const [D, H, W] = shape;
  // Swap blocks of `block` contiguous values, `n` blocks along the axis, `outer` times.
  const block = axis === 0 ? H * W * channels : axis === 1 ? W * channels : channels;
  const n = shape[axis]!;
  const outer = axis === 0 ? 1 : axis === 1 ? D : D * H;
  for (let o = 0; o < outer; o++) {
    const base = o * n * block;
    for (let i = 0, j = n - 1; i < j; i++, j--) {
      const a = base + i * block;
      const b = base + j * block;
      // Element-wise swap: no per-block allocation (blocks are as small as C values).
      for (let k = 0; k < block; k++) {
        const t = data[a + k]!;
        data[a + k] = data[b + k]!;
        data[b + k] = t;
      }
    }
  }
}

/** Registry entry for {@link RandMirror}. */
export const randMirrorFactory: AugmenterFactory<RandMirrorOptions> = RandMirror.factory();
