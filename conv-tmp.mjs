import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { registerWebGPUBackend } from '@voxseg/backend-webgpu';
await registerWebGPUBackend();
const [S = '32', CI = '4', CO = '4', K = '3', stride = '1'] = process.argv.slice(2);
const s = Number(S), ci = Number(CI), co = Number(CO), k = Number(K), st = Number(stride);
const x0 = tf.randomNormal([1, s, s, s, ci], 0, 1, 'float32', 1);
const w0 = tf.randomNormal([k, k, k, ci, co], 0, 1, 'float32', 2);
const xv = await x0.data(), wv = await w0.data();
async function run(b) {
  await tf.setBackend(b);
  const x = tf.tensor(xv, x0.shape), w = tf.tensor(wv, w0.shape);
  const t0 = performance.now();
  const y = tf.conv3d(x, w, st, 'same');
  const dy = tf.onesLike(y);
  const dx = tf.conv3dTranspose ? tf.grad((xx) => tf.sum(tf.mul(tf.conv3d(xx, w, st, 'same'), tf.add(tf.mod(tf.reshape(tf.range(0, y.size), y.shape), 7), 1))))(x) : null;
  const dw = tf.grad((ww) => tf.sum(tf.mul(tf.conv3d(x, ww, st, 'same'), tf.add(tf.mod(tf.reshape(tf.range(0, y.size), y.shape), 7), 1))))(w);
  const r = [await y.data(), await dx.data(), await dw.data()];
  console.log(b, ((performance.now() - t0) / 1000).toFixed(2), 's');
  return r;
}
const c = await run('cpu'), g = await run('webgpu');
for (let i = 0; i < 3; i++) {
  let d = 0, m = 0; for (let j = 0; j < c[i].length; j++) { d = Math.max(d, Math.abs(c[i][j] - g[i][j])); m = Math.max(m, Math.abs(c[i][j])); }
  console.log(['y', 'dx', 'dw'][i], 'rel', (d / m).toExponential(2));
}
