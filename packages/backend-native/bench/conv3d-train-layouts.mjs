// The training convolutions (VoxsegConv3DBias forward, Conv3DBackpropInputV2 = backward data,
// VoxsegConv3DBackpropFilterBias = filter + bias gradients) on channels-last activations
// (layout 0, before issue 14) against oneDNN's blocked layout with the addon's copies in and out
// (layout 1), interleaved per shape and pass so machine load hits both alike.
// The stride-1 filter gradient's new path is the GEMMs over padded activations (conv3d.cc), not
// a blocked layout; the printout says "new" for it.
// Usage: node packages/backend-native/bench/conv3d-train-layouts.mjs [patch=64] [batch=2] [in->out, e.g. 64->32: that shape only] [reps=3]
// Needs the packages built (npm run build). Prints the best of the timed repetitions (the first
// call of each builds its primitive and is not timed) and the largest relative difference of
// the two layouts' results (max |a - b| / max |a|).
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { registerNativeBackend } from '@voxseg/backend-native';
import { addon } from '../dist/addon/load-addon.js';
import { convParams } from '../dist/kernels/conv3d.js';

registerNativeBackend();
await tf.setBackend('native');
const P = Number(process.argv[2] ?? 64);
const N = Number(process.argv[3] ?? 2);
const only = process.argv[4] && process.argv[4] !== 'all' ? process.argv[4] : undefined;
const reps = Number(process.argv[5] ?? 3);
// [edge, in, out, stride, kernel]: the BL U-Net's training conv shapes at this patch (the 2x2x2
// stride-2 one is the transposed conv's geometry: its forward is backward-data).
const shapes = [[P, 4, 32, 1, 3], [P, 32, 32, 1, 3], [P, 64, 32, 1, 3], [P, 32, 64, 2, 3], [P, 32, 64, 2, 2], [P / 2, 64, 64, 1, 3], [P / 2, 128, 64, 1, 3], [P / 4, 128, 128, 1, 3], [P / 8, 256, 256, 1, 3]];
const rand = (n, k) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898 + k) * 0.5;
  return a;
};
const relDiff = (a, b) => {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return m ? d / m : d;
};
for (const [s, ci, co, st, k] of shapes.filter(([, ci, co]) => !only || only === `${ci}->${co}`)) {
  const info = tf.backend_util.computeConv3DInfo([N, s, s, s, ci], [k, k, k, ci, co], st, 1, k === 2 ? 'valid' : 'same');
  const p = convParams(info);
  const x = rand(N * s ** 3 * ci, 1), w = rand(k ** 3 * ci * co, 2), b = rand(co, 3);
  const ny = N * info.outDepth * info.outHeight * info.outWidth * co;
  const dy = rand(ny, 4);
  const gflop = (2 * ny * k ** 3 * ci) / 1e9;
  const out = [0, 1].map(() => ({ y: new Float32Array(ny), dx: new Float32Array(x.length), dw: new Float32Array(w.length), db: new Float32Array(co) }));
  const passes = {
    forward: (l) => addon().conv3dForwardBias(x, w, b, out[l].y, p, l),
    backwardData: (l) => addon().conv3dBackwardData(dy, w, out[l].dx, p, l),
    backwardFilter: (l) => addon().conv3dBackwardFilterBias(x, dy, out[l].dw, out[l].db, p, l),
  };
  const parts = [];
  for (const [name, run] of Object.entries(passes)) {
    const t = [[], []];
    const ran = [0, 0];
    for (let r = 0; r <= reps; r++) {
      for (const l of [0, 1]) {
        const t0 = performance.now();
        ran[l] = run(l);
        if (r > 0) t[l].push(performance.now() - t0);
      }
    }
    const ms = t.map((a) => Math.min(...a));
    const key = { forward: 'y', backwardData: 'dx', backwardFilter: 'dw' }[name];
    const diff = relDiff(out[0][key], out[1][key]);
    if (name === 'backwardFilter') {
      // Which layout is closer to the exact filter gradient: a float64 reference for 32 of its
      // elements (error relative to the largest of those reference values).
      const ref = [], idx = [];
      for (let j = 0; j < 32; j++) {
        const e = (j * 2654435761) % w.length;
        idx.push(e);
        const o = e % co, i = Math.floor(e / co) % ci, tap = Math.floor(e / (co * ci));
        const a = Math.floor(tap / (k * k)), bb = Math.floor(tap / k) % k, c = tap % k;
        let sum = 0;
        for (let n = 0; n < N; n++)
          for (let d = 0; d < info.outDepth; d++) {
            const xd = d * st + a - info.padInfo.front;
            if (xd < 0 || xd >= s) continue;
            for (let h = 0; h < info.outHeight; h++) {
              const xh = h * st + bb - info.padInfo.top;
              if (xh < 0 || xh >= s) continue;
              for (let ww = 0; ww < info.outWidth; ww++) {
                const xw = ww * st + c - info.padInfo.left;
                if (xw < 0 || xw >= s) continue;
                sum += x[(((n * s + xd) * s + xh) * s + xw) * ci + i] * dy[(((n * info.outDepth + d) * info.outHeight + h) * info.outWidth + ww) * co + o];
              }
            }
          }
        ref.push(sum);
      }
      const m = Math.max(...ref.map(Math.abs));
      const err = (l) => Math.max(...idx.map((e, j) => Math.abs(out[l].dw[e] - ref[j]))) / m;
      parts.push(`backwardFilter error against a float64 reference (32 elements): channels-last ${err(0).toExponential(1)}, new ${err(1).toExponential(1)}`);
    }
    const tag = ran[1] === 1 ? `new ${ms[1].toFixed(0)} ms (${((gflop / ms[1]) * 1e3).toFixed(0)})` : 'new n/a (ran channels-last)';
    parts.push(`${name}: channels-last ${ms[0].toFixed(0)} ms (${((gflop / ms[0]) * 1e3).toFixed(0)} GFLOP/s), ${tag}, x${(ms[0] / ms[1]).toFixed(2)}, rel diff ${diff.toExponential(1)}`);
  }
  console.log(`${s}^3 batch ${N} ${ci}->${co} k${k} s${st} (load ${loadavg()[0].toFixed(1)}):\n  ${parts.join('\n  ')}`);
  console.log(`  impl: ${JSON.stringify(addon().conv3dImplInfo(p))}`);
}
