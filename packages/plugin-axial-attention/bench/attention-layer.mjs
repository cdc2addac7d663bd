// One AxialAttention3D layer alone: forward and forward+gradient time.
//   node packages/plugin-axial-attention/bench/attention-layer.mjs [backend] [edge,C,heads,dimHead]
// e.g. `native 8,320,32,128` (the 8^3 stage of BL+AA at 128^3) or `native 32,64,4,16`.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@voxseg/core';
import { AxialAttention3D } from '@voxseg/plugin-axial-attention';
const sel = await selectBackend(process.argv[2] ?? 'auto');
const [E, C, heads, dimHead] = (process.argv[3] ?? '32,64,4,16').split(',').map(Number);
const t = (label, f, reps = 1) => { tf.dispose(f()); const t0 = performance.now(); for (let i = 0; i < reps; i++) { const r = f(); (Array.isArray(r) ? r[0] : r).dataSync(); tf.dispose(r); } console.log(sel.name, E, C, heads, dimHead, label, ((performance.now() - t0) / reps).toFixed(0), 'ms'); };
const x = tf.randomNormal([1, E, E, E, C]);
const layer = new AxialAttention3D({ heads, dimHead });
t('layer forward', () => layer.apply(x));
t('layer fwd+grad', () => { const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x))); return [value, ...Object.values(grads)]; });
