import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWebGPUBackend } from '@voxseg/backend-webgpu';
await registerWebGPUBackend();
await tf.setBackend('webgpu');
const a = tf.randomNormal([1 << 20]);
for (let r = 0; r < 3; r++) { const t0 = performance.now(); const y = tf.add(tf.mul(a, 2), 1); await y.data(); console.log('add 1M', (performance.now() - t0).toFixed(0), 'ms'); }
const m = tf.randomNormal([512, 512]);
for (let r = 0; r < 3; r++) { const t0 = performance.now(); const y = tf.matMul(m, m); await y.data(); console.log('matmul 512', (performance.now() - t0).toFixed(0), 'ms'); }
