import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_LAST_AXIS_BACKWARD, SOFTMAX_LAST_AXIS_FORWARD } from '@voxseg/core';
import { maxBindingElements, pieces, type ViewBackend, withViews } from './binding-split.js';
import { runWgsl, WgslProgram, type WgslRunner } from './wgsl-program.js';

/**
 * Softmax over the last axis in WGSL, forward and backward, registered as `@voxseg/core`'s
 * `VoxsegSoftmaxLastAxis` / `VoxsegSoftmaxLastAxisGrad` and as tfjs's own `Softmax` on webgpu.
 *
 * Why replace tfjs-backend-webgpu's `Softmax`: it runs one workgroup per row and, above 65535
 * rows, tfjs reshapes that dispatch into a square whose surplus workgroups write clamped,
 * out-of-range rows: measured on SwiftShader, [65537, 1, 8] came out with a relative error of
 * 0.125 (the axial attention at patch 128 has 500 000 rows and more). Its 64 threads per row
 * also idle on attention's short rows (L = 4 to 64).
 *
 * Here a 256-thread workgroup takes `256 / T` rows with `T` threads each (`T` a power of two,
 * about L / 8, so each thread reads at most ~8 values of a row); a row's maximum and its sum
 * are trees over its T threads in workgroup memory. Workgroups beyond one dispatch dimension
 * continue in y; rows beyond one storage binding run in pieces.
 */

const TPB = 256;

/** Threads per row: a power of two near L / 8, at most 256. */
export function threadsPerRow(cols: number): number {
  let t = 1;
  while (t < TPB && t * 8 < cols) t *= 2;
  return t;
}

/** A tree over the row's T threads of `red` (op: max or +); leaves the result in red[rowStart]. */
const tree = (tpr: number, op: (a: string, b: string) => string) => `
    for (var s = ${Math.floor(tpr / 2)}; s > 0; s = s / 2) {
      if (lt < s) { red[t] = ${op('red[t]', 'red[t + s]')}; }
      workgroupBarrier();
    }`;

function softmaxProgram(cols: number, rows: number, backward: boolean): WgslProgram {
  const tpr = threadsPerRow(cols);
  const rpw = TPB / tpr;
  const head = `
    let t = i32(localId.x);
    let lt = t % ${tpr};
    let lr = t / ${tpr};
    let row = uniforms.rowBase + workgroupIndex() * ${rpw} + lr;
    let valid = row < uniforms.rowEnd;
    let start = row * uniforms.L - uniforms.base;`;
  const forward = `${head}
    var m = -3.402823e+38;
    if (valid) { for (var c = lt; c < uniforms.L; c += ${tpr}) { m = max(m, logits[start + c]); } }
    red[t] = m;
    workgroupBarrier();
    ${tree(tpr, (a, b) => `max(${a}, ${b})`)}
    let rowMax = red[lr * ${tpr}];
    workgroupBarrier();
    var sum = 0.0;
    if (valid) { for (var c = lt; c < uniforms.L; c += ${tpr}) { sum = sum + exp(logits[start + c] - rowMax); } }
    red[t] = sum;
    workgroupBarrier();
    ${tree(tpr, (a, b) => `${a} + ${b}`)}
    let total = red[lr * ${tpr}];
    if (valid) { for (var c = lt; c < uniforms.L; c += ${tpr}) { result[start + c] = exp(logits[start + c] - rowMax) / total; } }`;
  const grad = `${head}
    var sum = 0.0;
    if (valid) { for (var c = lt; c < uniforms.L; c += ${tpr}) { sum = sum + dy[start + c] * probs[start + c]; } }
    red[t] = sum;
    workgroupBarrier();
    ${tree(tpr, (a, b) => `${a} + ${b}`)}
    let total = red[lr * ${tpr}];
    if (valid) { for (var c = lt; c < uniforms.L; c += ${tpr}) { result[start + c] = probs[start + c] * (dy[start + c] - total); } }`;
  const program = new WgslProgram(
    backward ? 'SoftmaxLastAxisGrad' : 'SoftmaxLastAxis',
    `voxseg_softmax_${backward ? 'grad' : 'fwd'}_${tpr}`,
    backward ? ['dy', 'probs'] : ['logits'],
    0,
    ['L', 'rowBase', 'rowEnd', 'base'],
    Math.ceil(rows / rpw),
    TPB,
    backward ? grad : forward,
  );
  program.prelude = `var<workgroup> red : array<f32, ${TPB}>;`;
  return program;
}

type Backend = WgslRunner & ViewBackend;

/** Run the forward or backward program over `big` (same-shape float32 tensors), in pieces of whole rows. */
function run(backend: Backend, big: tf.TensorInfo[], backward: boolean, kernel: string): tf.TensorInfo {
  const shape = big[0]!.shape;
  for (const t of big) {
    if (t.dtype !== 'float32') throw new Error(`${kernel} on webgpu: expected float32 inputs, got ${t.dtype}`);
    if (t.shape.join() !== shape.join()) throw new Error(`${kernel}: inputs of different shapes [${shape.join(', ')}] and [${t.shape.join(', ')}]`);
  }
  if (shape.length < 1) throw new Error(`${kernel}: expected a tensor of rank >= 1, got a scalar`);
  const cols = shape[shape.length - 1]!;
  const total = shape.reduce((p, d) => p * d, 1);
  const out = backend.makeTensorInfo([...shape], 'float32');
  if (total === 0) return out;
  const rows = total / cols;
  const maxEl = maxBindingElements(backend);
  if (total <= maxEl) {
    runWgsl(backend, softmaxProgram(cols, rows, backward), big, [cols, 0, rows, 0], out.shape, out);
    return out;
  }
  for (const [a, b] of pieces(total, cols, maxEl, kernel)) {
    withViews(backend, [...big, out], a, b, (views, base) => {
      const outView = views[views.length - 1]!;
      runWgsl(backend, softmaxProgram(cols, (b - a) / cols, backward), views.slice(0, -1), [cols, a / cols, b / cols, base], outView.shape, outView);
    });
  }
  return out;
}

const forwardFunc = (kernel: string): tf.KernelFunc =>
  (({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => run(backend as Backend, [inputs.logits!], false, kernel)) as unknown as tf.KernelFunc;

/** `VoxsegSoftmaxLastAxis` on webgpu. */
export const softmaxLastAxisConfig: tf.KernelConfig = { kernelName: SOFTMAX_LAST_AXIS_FORWARD, backendName: 'webgpu', kernelFunc: forwardFunc(SOFTMAX_LAST_AXIS_FORWARD) };

/** `VoxsegSoftmaxLastAxisGrad` on webgpu. */
export const softmaxLastAxisGradConfig: tf.KernelConfig = {
  kernelName: SOFTMAX_LAST_AXIS_BACKWARD,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) =>
    run(backend as Backend, [inputs.dy!, inputs.probs!], true, SOFTMAX_LAST_AXIS_BACKWARD)) as unknown as tf.KernelFunc,
};

/**
 * tfjs's `Softmax` (`tf.softmax`, always over the last axis) on webgpu, replacing
 * tfjs-backend-webgpu's (wrong above 65535 rows); its registered gradient is tfjs's.
 */
export const softmaxConfig: tf.KernelConfig = {
  kernelName: tf.Softmax,
  backendName: 'webgpu',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: { dim?: number } }) => {
    const logits = inputs.logits!;
    const dim = attrs.dim ?? -1;
    if (dim !== -1 && dim !== logits.shape.length - 1) throw new Error(`Softmax on webgpu: only the last axis is supported, got dim ${dim} of rank ${logits.shape.length}`);
    return run(backend as Backend, [logits], false, 'Softmax');
  }) as unknown as tf.KernelFunc,
};

/** The three softmax kernels. */
export const softmaxKernelConfigs: tf.KernelConfig[] = [softmaxConfig, softmaxLastAxisConfig, softmaxLastAxisGradConfig];
