// A decoder stage's skip concat + first conv at inference, two ways, interleaved so machine
// load hits both alike: `Concat` then VoxsegConv3DInference on the concatenated tensor (before
// issue 14's fusion) against VoxsegConv3DInference with `x2` (each part copied straight into
// the conv's blocked input buffer). Same bits (max diff printed).
// Usage: node packages/backend-native/bench/conv3d-inference-concat.mjs [edge=128] [channels per part=32] [out=32]
// Needs the packages built (npm run build).
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { registerNativeBackend } from '@voxseg/backend-native';

registerNativeBackend();
await tf.setBackend('native');
const [s, c, co] = [128, 32, 32].map((d, i) => Number(process.argv[2 + i] ?? d));
const rand = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + k) * 0.5);
const up = tf.tensor5d(rand(s ** 3 * c, 1), [1, s, s, s, c]);
const skip = tf.tensor5d(rand(s ** 3 * c, 2), [1, s, s, s, c]);
const filter = tf.tensor5d(rand(27 * 2 * c * co, 3).map((v) => v * 0.1), [3, 3, 3, 2 * c, co]);
const bias = tf.tensor1d(rand(co, 4));
const attrs = { strides: [1, 1, 1], pad: 'same', dilations: [1, 1, 1], negativeSlope: 0.01 };
const ways = {
  'concat + conv': () => tf.tidy(() => tf.engine().runKernel('VoxsegConv3DInference', { x: tf.concat([up, skip], -1), filter, bias }, attrs)),
  'conv with x2': () => tf.engine().runKernel('VoxsegConv3DInference', { x: up, x2: skip, filter, bias }, attrs),
};
const t = { 'concat + conv': [], 'conv with x2': [] };
const last = {};
for (let r = 0; r < 3; r++) {
  for (const [name, f] of Object.entries(ways)) {
    const t0 = performance.now();
    const y = f();
    t[name].push(performance.now() - t0);
    if (r === 2) last[name] = y.dataSync().slice();
    y.dispose();
  }
}
let diff = 0;
const [a, b] = Object.values(last);
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
const line = Object.entries(t).map(([k, v]) => `${k} ${Math.min(...v.slice(1)).toFixed(0)} ms`).join(', ');
console.log(`${s}^3 ${c}+${c}->${co}: ${line} (best of 2 after a warm-up), max diff ${diff}, load ${loadavg()[0].toFixed(1)}`);
tf.dispose([up, skip, filter, bias]);
