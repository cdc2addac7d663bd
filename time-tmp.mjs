import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWebGPUBackend } from '@voxseg/backend-webgpu';
await registerWebGPUBackend();
await tf.setBackend(process.argv[2] ?? 'webgpu');
const s = 32, c = 4;
const x = tf.randomNormal([1, s, s, s, c]), w = tf.randomNormal([3, 3, 3, c, c]), dy = tf.randomNormal([1, s, s, s, c]);
async function t(name, f) { for (let r = 0; r < 2; r++) { const t0 = performance.now(); const y = f(); await y.data(); y.dispose(); console.log(name, (performance.now() - t0).toFixed(0), 'ms'); } }
await t('fwd', () => tf.conv3d(x, w, 1, 'same'));
await t('dx', () => tf.conv3dTranspose(dy, w, x.shape, 1, 'same'));
await t('dw', () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: [1,1,1], pad: 'same', filterShape: w.shape }));
const big = tf.randomNormal([2, 16, 16, 16, 8]);
await t('sum', () => tf.sum(big, [0, 1, 2, 3]));
await t('moments', () => tf.moments(big, [0, 1, 2, 3]).variance);
