import * as tf from '@tensorflow/tfjs-core';

/**
 * The tfjs kernels built on tfjs-backend-webgpu's `BinaryOpProgram` (4.22): every
 * element-wise op with two inputs and broadcasting.
 */
export const BINARY_KERNELS: readonly string[] = Object.freeze([
  'Add', 'Atan2', 'EluGrad', 'Equal', 'FloorDiv', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd',
  'LogicalOr', 'Maximum', 'Minimum', 'Mod', 'Multiply', 'NotEqual', 'Pow', 'Prelu', 'RealDiv', 'SquaredDifference', 'Sub',
]);

/**
 * The broadcast that `BinaryOpProgram` gets wrong: one input of rank 1 with fewer than 128
 * elements and the other of rank >= 5. The program then keeps the small input in workgroup
 * memory and indexes it with `coords[rank - 1]`, but for rank 5 and 6 the generated WGSL
 * coordinates are structs (`vec5`, `vec6`), which cannot be indexed: the shader does not
 * compile, the kernel never runs, and its output is left as garbage. `[N, D, H, W, C] + [C]`
 * (every bias add and every norm's scale and shift) hits it.
 *
 * Returns the 2-D shape `[size / last, last]` to run the big input as, or null when the inputs
 * are safe as they are. Broadcasting a rank-1 input only concerns the last axis, so the
 * collapsed op computes the same values.
 */
export function collapsedShape(a: readonly number[], b: readonly number[]): number[] | null {
  const small = (s: readonly number[]) => s.length === 1 && s[0]! < 128;
  const big = small(b) && a.length >= 5 ? a : small(a) && b.length >= 5 ? b : null;
  if (!big) return null;
  const last = big[big.length - 1]!;
  const size = big.reduce((p, d) => p * d, 1);
  return last === 0 ? null : [size / last, last];
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The wrapped kernel function: collapse, run the original, restore the broadcast shape. */
function collapsing(original: KernelFunc): KernelFunc {
  return (args) => {
    const names = Object.keys(args.inputs);
    if (names.length !== 2) return original(args);
    const [na, nb] = names as [string, string];
    const a = args.inputs[na]!;
    const b = args.inputs[nb]!;
    const flat = collapsedShape(a.shape, b.shape);
    if (!flat) return original(args);
    const reshape = tf.getKernel('Reshape', 'webgpu')!.kernelFunc;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const backend = args.backend as tf.KernelBackend;
    const aBig = a.shape.length >= 5;
    const bigIn = aBig ? a : b;
    const big2d = reshape({ inputs: { x: bigIn }, backend, attrs: { shape: flat } }) as tf.TensorInfo;
    // The small input as [1, C] too: a rank-1 operand sends BinaryOpProgram down its
    // shared-memory path (a workgroup barrier per 256 outputs, which SwiftShader pays dearly for:
    // [32768, 4] + [4] took 0.54 s, and a pipeline per C), a rank-2 one down the plain one.
    const smallIn = aBig ? b : a;
    const small2d = reshape({ inputs: { x: smallIn }, backend, attrs: { shape: [1, smallIn.shape[0]!] } }) as tf.TensorInfo;
    const out2d = original({ ...args, inputs: { ...args.inputs, [aBig ? na : nb]: big2d, [aBig ? nb : na]: small2d } }) as tf.TensorInfo;
    const out = reshape({ inputs: { x: out2d }, backend, attrs: { shape: outShape } }) as tf.TensorInfo;
    backend.disposeData(big2d.dataId);
    backend.disposeData(small2d.dataId);
    backend.disposeData(out2d.dataId);
    return out;
  };
}

const WRAPPED = Symbol.for('voxseg.webgpu.collapsedBroadcast');

/**
 * Replace each of {@link BINARY_KERNELS} registered on `webgpu` with a version that runs
 * the broadcast {@link collapsedShape} names on a 2-D view. Idempotent.
 */
export function routeAroundRank5Broadcast(backendName = 'webgpu'): void {
  for (const name of BINARY_KERNELS) {
    const config = tf.getKernel(name, backendName);
    if (!config || (config.kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED]) continue;
    const kernelFunc = collapsing(config.kernelFunc);
    (kernelFunc as unknown as Record<symbol, boolean>)[WRAPPED] = true;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ ...config, kernelFunc });
  }
}
