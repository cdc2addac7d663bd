import * as tf from '@tensorflow/tfjs-core';

/**
 * The gradient of `Conv3DBackpropInputV2`, the kernel behind `conv3dTranspose` (tfjs-layers'
 * `Conv3DTranspose`), which tfjs-core 4.22 does not register: without it no U-Net with
 * transposed-conv upsampling can be trained ("gradient function not found").
 *
 * A transposed conv is the adjoint of the conv `A_W` with the same filter, strides and
 * padding: `y = A_W^T x`. Hence, for an upstream gradient `g` (shaped like `y`):
 * - d/dx = `A_W g` = `conv3d(g, W, strides, pad)`;
 * - d/dW = the filter gradient of `<A_W g, x>`, i.e. `Conv3DBackpropFilterV2` with the conv's
 *   input `g` and its output gradient `x`.
 * Backend-agnostic: it only calls kernels every backend has. Checked by finite differences.
 *
 * Registration is idempotent and keeps any gradient registered before (tfjs-core may ship one
 * in a later version; another package may have registered the same adjoint).
 */
export function registerConv3dTransposeGradient(): void {
  if (tf.getGradient(tf.Conv3DBackpropInputV2)) return;
  tf.registerGradient({
    kernelName: tf.Conv3DBackpropInputV2,
    inputsToSave: ['dy', 'filter'],
    gradFunc: (g, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as tf.Conv3DBackpropInputV2Attrs;
      const upstream = g as tf.Tensor5D;
      return {
        dy: () => tf.conv3d(upstream, filter, strides, pad),
        filter: () =>
          tf.engine().runKernel(
            tf.Conv3DBackpropFilterV2,
            { x: upstream, dy: x } as unknown as tf.NamedTensorMap,
            { strides, pad, filterShape: filter.shape } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
      };
    },
  });
}

registerConv3dTransposeGradient();
