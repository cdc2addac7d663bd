import * as tf from '@tensorflow/tfjs-core';

/**
 * Test-only stop-gap: tfjs-core 4.22 registers no gradient for `Conv3DBackpropInputV2`, the
 * kernel behind `conv3dTranspose`, so no U-Net with transposed convs can be trained until a
 * package registers one (reported to the lead; it belongs with the U-Net or core). This
 * registers the adjoint pair only when nothing else has:
 *   y = A_W^T dy  (A_W = conv3d with the same strides/pad)
 *   d/d(dy) = conv3d(g, W)                       (A_W g)
 *   d/d(W)  = Conv3DBackpropFilterV2(x = g, dy)  (the conv3d filter gradient of <A_W g, dy>)
 * Checked by finite differences in plugin.test.ts.
 */
export function ensureConv3dTransposeGradient(): void {
  if (tf.getGradient(tf.Conv3DBackpropInputV2)) return;
  tf.registerGradient({
    kernelName: tf.Conv3DBackpropInputV2,
    inputsToSave: ['dy', 'filter'],
    gradFunc: (g, saved, attrs) => {
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as { strides: [number, number, number]; pad: 'valid' | 'same' };
      const grad = g as tf.Tensor5D;
      return {
        dy: () => tf.conv3d(grad, filter, strides, pad),
        filter: () =>
          tf.engine().runKernel(tf.Conv3DBackpropFilterV2, { x: grad, dy }, { strides, pad, filterShape: filter.shape }) as tf.Tensor,
      };
    },
  });
}
