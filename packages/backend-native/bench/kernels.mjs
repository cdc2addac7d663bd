// Per-kernel timings of the native backend on one 2x64^3x32 activation (the level-0 tensor
// of a BL step at 64^3, batch 2): best of 5 after a warm-up. For spotting a kernel that
// stopped vectorising or started allocating. Usage (after npm run build):
//   node packages/backend-native/bench/kernels.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerNativeBackend } from '@voxseg/backend-native';

const status = registerNativeBackend();
if (!status.available) {
  console.log(`native backend unavailable: ${status.reason}`);
  process.exit(0);
}
await tf.setBackend('native');
const shape = [2, 64, 64, 64, 32];
const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
const g = tf.ones([32]);
const be = tf.zeros([32]);
const b32 = tf.randomNormal([32], 0, 1, 'float32', 3);
const cc = tf.concat([x, dy], -1);
const attrs = { groups: 32, acrossBatch: true, epsilon: 1e-5 };
const [y, mean, variance] = tf.engine().runKernel('VoxsegNormForward', { x, gamma: g, beta: be }, attrs);
const time = (name, f) => {
  tf.dispose(f());
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    tf.dispose(f());
    best = Math.min(best, performance.now() - t);
  }
  console.log(`${name.padEnd(34)} ${best.toFixed(1).padStart(7)} ms`);
};
time('norm forward (BatchNorm stats)', () => tf.engine().runKernel('VoxsegNormForward', { x, gamma: g, beta: be }, attrs));
time('norm forward + LeakyReLU', () => tf.engine().runKernel('VoxsegNormForward', { x, gamma: g, beta: be }, { ...attrs, negativeSlope: 0.01 }));
time('norm backward', () => tf.engine().runKernel('VoxsegNormBackward', { dy, x, mean, variance, gamma: g }, attrs));
time('norm backward through LeakyReLU', () => tf.engine().runKernel('VoxsegNormBackward', { dy, x, mean, variance, gamma: g, y }, { ...attrs, negativeSlope: 0.01 }));
time('leakyRelu', () => tf.leakyRelu(y, 0.01));
time('leakyRelu gradient', () => tf.engine().runKernel('VoxsegLeakyReluGrad', { dy, x: y }, { alpha: 0.01 }));
time('add (same shape)', () => tf.add(x, dy));
time('add (bias [C])', () => tf.add(x, b32));
time('mul (scalar)', () => tf.mul(x, 0.5));
time('greater (scalar)', () => tf.greater(x, 0));
time('step', () => tf.step(x, 0.01));
time('sum over N,D,H,W', () => tf.sum(x, [0, 1, 2, 3]));
time('concat on channels', () => tf.concat([x, dy], -1));
time('split on channels', () => tf.split(cc, 2, -1));
time('slice on depth', () => tf.slice(cc, [0, 0, 0, 0, 0], [-1, 32, -1, -1, -1]));
