// Compare the inference convolution (VoxsegConv3DInference: conv + bias + LeakyReLU) on
// channels-last activations against oneDNN's blocked layout with the input and output
// reordered in the same call, interleaved per shape so machine load hits both alike.
// Usage: node packages/backend-native/bench/conv3d-inference-layouts.mjs [patch=64]
// Needs the packages built (npm run build). The layouts give identical results (max diff printed).
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { registerNativeBackend } from '@voxseg/backend-native';
import { addon } from '../dist/addon/load-addon.js';
import { convParams } from '../dist/kernels/conv3d.js';

registerNativeBackend();
await tf.setBackend('native');
const P = Number(process.argv[2] ?? 64);
// [edge, in, out, stride]: the BL U-Net's conv shapes at this patch.
const shapes = [[P, 4, 32, 1], [P, 32, 32, 1], [P, 64, 32, 1], [P, 32, 64, 2], [P / 2, 64, 64, 1], [P / 2, 128, 64, 1], [P / 4, 128, 128, 1], [P / 8, 256, 256, 1]];
const rand = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
for (const [s, ci, co, st] of shapes) {
  const info = tf.backend_util.computeConv3DInfo([1, s, s, s, ci], [3, 3, 3, ci, co], st, 1, 'same');
  const p = convParams(info);
  const x = rand(s ** 3 * ci), w = rand(27 * ci * co), b = rand(co);
  const n = info.outDepth * info.outHeight * info.outWidth * co;
  const ys = [new Float32Array(n), new Float32Array(n)];
  const gflop = (2 * n * 27 * ci) / 1e9;
  const t = [[], []];
  for (let r = 0; r < 4; r++) {
    for (const layout of [0, 1]) {
      const t0 = performance.now();
      addon().conv3dInference(x, w, b, ys[layout], p, 0.01, layout);
      if (r > 0) t[layout].push(performance.now() - t0); // first call builds the primitive
    }
  }
  let diff = 0;
  for (let i = 0; i < n; i++) diff = Math.max(diff, Math.abs(ys[0][i] - ys[1][i]));
  const ms = t.map((a) => Math.min(...a));
  console.log(`${s}^3 ${ci}->${co} stride ${st}: channels-last ${ms[0].toFixed(0)} ms (${(gflop / ms[0] * 1e3).toFixed(1)} GFLOP/s), blocked incl. reorders ${ms[1].toFixed(0)} ms (${(gflop / ms[1] * 1e3).toFixed(1)} GFLOP/s), max diff ${diff}, load ${loadavg()[0].toFixed(1)}`);
}
