import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWebGPUBackend } from '@voxseg/backend-webgpu';
import { createExperiment, Rng } from '@voxseg/core';
import { axialAttentionPlugin } from '@voxseg/plugin-axial-attention';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { buildPreset, unetPlugin } from '@voxseg/plugin-unet';
const [backend = 'webgpu', variant = 'BL', patch = '32', base = '4', scopes = '1'] = process.argv.slice(2);
const st = await registerWebGPUBackend({ errorScopes: scopes === '1' });
await tf.setBackend(backend);
const P = Number(patch);
const exp = createExperiment({ plugins: [unetPlugin(), axialAttentionPlugin(), lossesPlugin()] });
const model = buildPreset(exp, variant, { inChannels: 4, outChannels: 3, patchSize: P, baseFilters: Number(base), rng: new Rng(7) });
const factory = exp.get('loss', 'deep-supervision');
const loss = factory.create({ ...factory.defaults, loss: 'dice-bce', lossOptions: { batchDice: true, smooth: 0 } }, exp);
const x = tf.randomNormal([1, P, P, P, 4], 0, 1, 'float32', 1);
const target = tf.cast(tf.greater(tf.randomNormal([1, P, P, P, 3], 0, 1, 'float32', 2), 0.3), 'float32');
const vars = model.trainableWeights.map((w) => w.read());
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => loss.compute([].concat(model.apply(x, { training: true })), [target]), vars);
  const l = (await value.data())[0];
  const t1 = performance.now();
  for (const g of Object.values(grads)) await g.data();
  console.log(backend, variant, 'loss', l, 'fwd+bwd+read', ((performance.now() - t0) / 1000).toFixed(2), 's', 'loss ready at', ((t1 - t0) / 1000).toFixed(2));
  tf.dispose([value, ...Object.values(grads)]);
}
