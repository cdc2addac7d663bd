import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { addon } from '../addon/load-addon.js';
import { broadcastPlan, reductionPlan } from './broadcast.js';
import { alloc, cpuKernel, f32, output, sizeOf, u8 } from './tensor-data.js';

/** Op codes of the addon's `binary` (elementwise.cc). */
const BINARY_OPS: Record<string, number> = {
  [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3, [tf.Maximum]: 4, [tf.Minimum]: 5,
  [tf.SquaredDifference]: 6,
  [tf.Greater]: 10, [tf.GreaterEqual]: 11, [tf.Less]: 12, [tf.LessEqual]: 13, [tf.Equal]: 14,
};

function binaryConfig(kernelName: string): tf.KernelConfig {
  const op = BINARY_OPS[kernelName]!;
  const compare = op >= 10;
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const be = backend as MathBackendCPU;
      // Only float32 runs natively; ints, bools and complex keep the cpu kernels.
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return cpuKernel(kernelName, { inputs, backend: be, attrs });
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const n = sizeOf(outShape);
      const out = compare ? new Uint8Array(n) : alloc(be, n);
      if (n > 0) {
        const plan = broadcastPlan(a.shape, b.shape, outShape);
        addon().binary(op, f32(be, a), f32(be, b), out, plan.dims, plan.stridesA, plan.stridesB);
      }
      return output(be, outShape, compare ? 'bool' : 'float32', out);
    },
  };
}

/** Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference and comparisons. */
export const binaryConfigs: tf.KernelConfig[] = Object.keys(BINARY_OPS).map(binaryConfig);

/** `Select` (tf.where), the core of leakyRelu's gradient. */
export const selectConfig: tf.KernelConfig = {
  kernelName: tf.Select,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { condition, t, e } = inputs as { condition: tf.TensorInfo; t: tf.TensorInfo; e: tf.TensorInfo };
    const be = backend as MathBackendCPU;
    const n = sizeOf(t.shape);
    if (t.dtype !== 'float32' || e.dtype !== 'float32' || condition.dtype !== 'bool' || sizeOf(condition.shape) !== n || sizeOf(e.shape) !== n) {
      return cpuKernel(tf.Select, { inputs, backend: be, attrs });
    }
    const out = alloc(be, n);
    if (n > 0) addon().select(u8(be, condition), f32(be, t), f32(be, e), out);
    return output(be, [...t.shape], 'float32', out);
  },
};

/** `LeakyRelu`. Its gradient (Greater, Multiply, Select) runs on the kernels above. */
export const leakyReluConfig: tf.KernelConfig = {
  kernelName: tf.LeakyRelu,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { alpha } = attrs as unknown as tf.LeakyReluAttrs;
    const be = backend as MathBackendCPU;
    if (x.dtype !== 'float32') return cpuKernel(tf.LeakyRelu, { inputs, backend: be, attrs });
    const out = alloc(be, sizeOf(x.shape));
    if (out.length > 0) addon().leakyRelu(f32(be, x), alpha, out);
    return output(be, [...x.shape], 'float32', out);
  },
};

/** Op codes of the addon's `unary` (elementwise.cc). */
const UNARY_OPS: Record<string, number> = {
  [tf.Neg]: 0, [tf.Relu]: 1, [tf.Abs]: 2, [tf.Exp]: 3, [tf.Log1p]: 4, [tf.Sigmoid]: 5, [tf.Square]: 6, [tf.Sqrt]: 7, [tf.Rsqrt]: 8, [tf.Log]: 9,
};

function unaryConfig(kernelName: string): tf.KernelConfig {
  const op = UNARY_OPS[kernelName]!;
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const be = backend as MathBackendCPU;
      if (x.dtype !== 'float32') return cpuKernel(kernelName, { inputs, backend: be, attrs });
      const out = alloc(be, sizeOf(x.shape));
      if (out.length > 0) addon().unary(op, f32(be, x), out);
      return output(be, [...x.shape], 'float32', out);
    },
  };
}

/** Neg, Relu, Abs, Exp, Log1p, Sigmoid, Square, Sqrt, Rsqrt, Log (the loss and optimizer's maths). */
export const unaryConfigs: tf.KernelConfig[] = Object.keys(UNARY_OPS).map(unaryConfig);

/** `Step` (x > 0 ? 1 : alpha), the mask of activation gradients written by hand. */
export const stepConfig: tf.KernelConfig = {
  kernelName: tf.Step,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { alpha } = attrs as unknown as tf.StepAttrs;
    const be = backend as MathBackendCPU;
    if (x.dtype !== 'float32') return cpuKernel(tf.Step, { inputs, backend: be, attrs });
    const out = alloc(be, sizeOf(x.shape));
    if (out.length > 0) addon().step(f32(be, x), alpha, out);
    return output(be, [...x.shape], 'float32', out);
  },
};

/** Kernel: dx of LeakyRelu in one pass (see {@link leakyReluGradConfig}). */
export const LEAKY_RELU_GRAD = 'VoxsegLeakyReluGrad';

/** The native one-pass leakyRelu gradient kernel. */
export const leakyReluGradKernelConfig: tf.KernelConfig = {
  kernelName: LEAKY_RELU_GRAD,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    const { alpha } = attrs as unknown as tf.LeakyReluAttrs;
    const be = backend as MathBackendCPU;
    const out = alloc(be, sizeOf(x.shape));
    if (out.length > 0) addon().leakyReluGrad(f32(be, dy), f32(be, x), alpha, out);
    return output(be, [...x.shape], 'float32', out);
  },
};

/**
 * The LeakyRelu gradient, replacing tfjs's (gradients are registered per kernel name for
 * every backend): on a backend with {@link LEAKY_RELU_GRAD} and float32 data, one native
 * pass; anywhere else it calls the gradient it replaced, so other backends compute exactly
 * what they did. tfjs's is `where(x > 0, dy, dy * alpha)`: three full-size kernels and
 * temporaries per activation layer.
 */
export function leakyReluGradConfig(previous: tf.GradConfig): tf.GradConfig {
  return {
    ...previous,
    kernelName: tf.LeakyRelu,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const g = Array.isArray(dy) ? dy[0]! : dy;
      const x = saved[0]!;
      if (g.dtype === 'float32' && x.dtype === 'float32' && tf.getKernel(LEAKY_RELU_GRAD, tf.getBackend())) {
        return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: g, x }, attrs) as tf.Tensor };
      }
      return previous.gradFunc(dy, saved, attrs);
    },
  };
}

function reduceConfig(kernelName: string, mean: boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
      const be = backend as MathBackendCPU;
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const plan = x.dtype === 'float32' ? reductionPlan(x.shape, axes) : null;
      if (!plan || sizeOf(x.shape) === 0) return cpuKernel(kernelName, { inputs, backend: be, attrs });
      const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      const out = alloc(be, plan.outer * plan.inner);
      addon().reduce(f32(be, x), plan.outer, plan.red, plan.inner, out, mean);
      return output(be, outShape, 'float32', out);
    },
  };
}

/** `Sum` and `Mean` over a contiguous block of axes (others fall back to cpu). */
export const reduceConfigs: tf.KernelConfig[] = [reduceConfig(tf.Sum, false), reduceConfig(tf.Mean, true)];
