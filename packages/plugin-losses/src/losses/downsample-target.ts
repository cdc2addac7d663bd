import * as tf from '@tensorflow/tfjs-core';

/**
 * Source index of output voxel `o` when an axis of `inSize` voxels is resampled to `outSize`
 * by nearest neighbour, as nnU-Net v1 does for deep-supervision targets
 * (`downsample_seg_for_ds_transform2` -> skimage `resize(order=0)` -> scipy `zoom` with grid
 * mode): the source coordinate is `(o + 0.5) * in / out - 0.5`, rounded half up, i.e.
 * `floor((o + 0.5) * in / out)`. For a factor 2 that is `2o + 1` (indices 1, 3, 5, ...), for
 * 4 `4o + 2`: the voxel just past the centre of each block (checked against scipy 1.10 in
 * scripts/golden_losses.py).
 */
export function nearestSourceIndex(o: number, inSize: number, outSize: number): number {
  // Integer arithmetic: floor((2o + 1) * in / (2 out)), no float rounding at exact halves.
  return Math.min(inSize - 1, Math.floor(((2 * o + 1) * inSize) / (2 * outSize)));
}

/**
 * Nearest-neighbour resampling of a channels-last target `[N, D, H, W, K]` to the spatial
 * shape `[d, h, w]` (see {@link nearestSourceIndex}). Each lower deep-supervision target is
 * taken from the full-resolution one directly, as nnU-Net does.
 */
export function downsampleTarget(target: tf.Tensor, spatial: readonly number[]): tf.Tensor {
  if (target.rank !== 5) throw new Error(`downsampleTarget: target must be [N, D, H, W, K], got [${target.shape}]`);
  if (spatial.length !== 3) throw new Error(`downsampleTarget: spatial shape must be [D, H, W], got [${spatial}]`);
  return tf.tidy(() => {
    let t = target;
    for (let axis = 1; axis <= 3; axis++) {
      const inSize = target.shape[axis]!;
      const outSize = spatial[axis - 1]!;
      if (inSize === outSize) continue;
      const idx = Array.from({ length: outSize }, (_, o) => nearestSourceIndex(o, inSize, outSize));
      t = tf.gather(t, tf.tensor1d(idx, 'int32'), axis);
    }
    return t === target ? tf.clone(target) : t;
  });
}
