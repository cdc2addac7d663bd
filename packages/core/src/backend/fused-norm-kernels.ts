/**
 * The fused normalisation kernels: one contract, implemented by backends, called by layers.
 *
 * A backend that registers these two TensorFlow.js kernels (`tf.registerKernel`) gets every
 * normalisation layer of the U-Net (BatchNorm, GroupNorm, InstanceNorm, each optionally followed
 * by LeakyReLU) as one forward kernel and one backward kernel instead of ~10 tfjs ops each
 * way. `@voxseg/backend-native` implements them in C++ (OpenMP), `@voxseg/backend-webgpu` in
 * WGSL; `@voxseg/plugin-unet`'s `fusedNorm` runs them whenever the active backend has
 * {@link FUSED_NORM_FORWARD} registered, and falls back to tfjs ops otherwise, so a backend
 * without them still runs every network.
 *
 * Layout: `x` is channels-last, rank >= 2, `[N, ...spatial, C]` (rank 5, `[N, D, H, W, C]`, in
 * the networks); it is seen as `[N, S, C]` with S the product of the spatial sizes. The C
 * channels form `groups` groups of `C / groups` consecutive channels.
 *
 * Statistics ("stat" below) are taken over
 * - each (sample, group), over S voxels and the group's channels: GroupNorm (`groups` = 32 in
 *   the GN variants), InstanceNorm (`groups` = C), LayerNorm over space and channels
 *   (`groups` = 1); statistics shape `[N, groups]`;
 * - with `acrossBatch`, each group over N samples and S voxels: BatchNorm in training
 *   (`groups` = C); statistics shape `[groups]`.
 *
 * The variance is the biased (population) one, as nnU-Net's PyTorch norms use in the forward
 * pass; `epsilon` is added to it before the square root.
 */

/**
 * Forward kernel name.
 *
 * Inputs `{ x, gamma, beta }`: `x` float32 as above, `gamma` and `beta` float32 `[C]`.
 * Attributes {@link FusedNormKernelAttrs}.
 * Outputs `[y, mean, variance]`:
 * - `y`, shape of `x`: `(x - mean) / sqrt(variance + epsilon) * gamma + beta`, then
 *   `leakyRelu(., negativeSlope)` when `negativeSlope` is given;
 * - `mean`, `variance`: `[N, groups]`, or `[groups]` with `acrossBatch` (no gradient flows
 *   through them: they are for BatchNorm's running averages and for the backward kernel).
 */
export const FUSED_NORM_FORWARD = 'VoxsegNormForward';

/**
 * Backward kernel name: all three gradients of {@link FUSED_NORM_FORWARD} in one call.
 *
 * Inputs `{ dy, x, mean, variance, gamma }`, plus `y` (the forward output) when
 * `negativeSlope` is given: then `dy` is the gradient of the activated output and is taken
 * through the LeakyReLU first (`y > 0 ? dy : negativeSlope * dy`). `mean` and `variance` are
 * the forward kernel's outputs. Same attributes as the forward call.
 * Outputs `[dx, dgamma, dbeta]`: `dx` shape of `x`; `dgamma`, `dbeta` `[C]` (summed over the
 * batch).
 */
export const FUSED_NORM_BACKWARD = 'VoxsegNormBackward';

/** Attributes of both fused norm kernels. */
export interface FusedNormKernelAttrs {
  /** Channel groups: C for instance norm (and batch norm, with `acrossBatch`), 32 for GroupNorm. Must divide C. */
  groups: number;
  /** Statistics per group over batch and space (BatchNorm training) instead of per sample. */
  acrossBatch: boolean;
  /** Added to the variance (nnU-Net: 1e-5). */
  epsilon: number;
  /**
   * Optional LeakyReLU fused after the normalisation: forward returns
   * `leakyRelu(norm(x), negativeSlope)`; backward then needs the forward output as input `y`
   * and takes `dy` through the activation itself. Absent (or not finite): no activation.
   */
  negativeSlope?: number;
}

/** The statistics shape of the fused norm kernels for an input of shape `xShape`. */
export function fusedNormStatsShape(xShape: readonly number[], attrs: Pick<FusedNormKernelAttrs, 'groups' | 'acrossBatch'>): number[] {
  return attrs.acrossBatch ? [attrs.groups] : [xShape[0]!, attrs.groups];
}

/** `negativeSlope` when it asks for an activation (a finite number), else undefined. */
export function fusedNormSlope(attrs: Pick<FusedNormKernelAttrs, 'negativeSlope'>): number | undefined {
  const s = attrs.negativeSlope;
  return typeof s === 'number' && Number.isFinite(s) ? s : undefined;
}
