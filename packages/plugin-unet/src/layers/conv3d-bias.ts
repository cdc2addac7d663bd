import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type CallKwargs, channelsOf, isTraining, releaseUpstream, singleInput } from './layer-utils.js';

/**
 * Kernels `@voxseg/backend-native` registers (this package uses them by name, without
 * depending on it; see that package's README): conv + bias in one oneDNN primitive, the
 * filter and bias gradients in one, and the inference conv + bias + LeakyReLU.
 */
export const NATIVE_CONV3D_BIAS_KERNEL = 'VoxsegConv3DBias';
export const NATIVE_CONV3D_BACKPROP_FILTER_BIAS_KERNEL = 'VoxsegConv3DBackpropFilterBias';
export const NATIVE_CONV3D_INFERENCE_KERNEL = 'VoxsegConv3DInference';

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * Whether a gradient tape is recording (inside `tf.grads`, `variableGrads`, `minimize`): the
 * inference kernel has no gradient, so it is used only when nothing differentiates the call
 * (tfjs-layers' `predict`, or `apply` outside any gradient function). Unknown: assume yes.
 */
function tapeOn(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

/** Options of {@link Conv3DBias}. */
export interface Conv3DBiasArgs {
  /** Layer name (unique within the model). */
  name?: string;
  /** Output channels. */
  filters: number;
  /** Cubic kernel edge. Default 3. */
  kernelSize?: number;
  /** Stride on every spatial axis. Default 1. */
  strides?: number;
  /** `'same'` (default) or `'valid'`, as tf.conv3d. */
  padding?: 'same' | 'valid';
  /** Add a per-channel bias. Default `true`. */
  useBias?: boolean;
  /** Whether the weights are trained. Default `true`. */
  trainable?: boolean;
  /**
   * Apply LeakyReLU with this slope to the result. Default: none. Set by
   * `prepareForInference` when it folds the following BatchNorm (and its activation) into this
   * conv: at inference conv, bias and activation then run as one native pass.
   */
  negativeSlope?: number;
}

/**
 * A 3-D convolution (channels-last, kernel `[k, k, k, in, out]` as tfjs's `Conv3D`) whose bias
 * is added inside the same differentiable op.
 *
 * Why not tfjs-layers' `conv3d`: it computes `conv3d` then `biasAdd`, and autodiff keeps both
 * full-size results alive until the backward pass; for nnU-Net's 3x3x3-conv-with-bias stacks
 * that is one extra activation per conv. Here the backward pass is written out
 * (`dx = conv3dTranspose(dy, W)`, `dW = Conv3DBackpropFilterV2(x, dy)`, `db = sum(dy)`) and only
 * the input is kept, as for a conv without bias. Same maths and weights as `Conv3D`.
 * Weights start at zero: initialise them (the U-Net builder draws He-normal values from its
 * `Rng`), or load them.
 *
 * Called on two tensors `[a, b]` (same batch and spatial shape), the layer convolves their
 * channel concatenation `concat([a, b], -1)` (kernel `[k, k, k, ca + cb, out]`): that is how
 * `prepareForInference` drops a U-Net decoder's concat layer. At inference on backend-native
 * the concatenated tensor is then never built (each part goes straight into the convolution's
 * input buffer); elsewhere the layer concatenates first.
 */
export class Conv3DBias extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'Conv3DBias';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  readonly negativeSlope: number | undefined;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: Conv3DBiasArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'same';
    this.useBias = args.useBias ?? true;
    this.negativeSlope = args.negativeSlope ?? undefined;
    for (const [k, v] of [['filters', this.filters], ['kernelSize', this.kernelSize], ['strides', this.strides]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${this.name}: ${k} must be a positive integer, got ${v}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tfl.Shape[];
    if (shapes.length > 2) throw new Error(`${this.name}: expected one input tensor or two to concatenate, got ${shapes.length}`);
    const c = shapes.reduce((sum, s) => sum + channelsOf(s, this.name), 0);
    const k = this.kernelSize;
    // Zeros: the owner draws the init from its Rng (see initializeHe), never Math.random.
    this.kernel = this.addWeight('kernel', [k, k, k, c, this.filters], 'float32', tfl.initializers.zeros());
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const edge = (e: number | null) =>
      e == null ? null : this.padding === 'same' ? Math.ceil(e / this.strides) : Math.ceil((e - this.kernelSize + 1) / this.strides);
    return [s[0]!, edge(s[1]!), edge(s[2]!), edge(s[3]!), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor {
    return tf.tidy(() => {
      const pair = Array.isArray(inputs) && inputs.length === 2 ? inputs : undefined;
      const first = (pair ? pair[0]! : singleInput(inputs, this.name)) as tf.Tensor5D;
      const w = this.kernel!.read() as tf.Tensor5D;
      const strides = this.strides;
      const pad = this.padding;
      const slope = this.negativeSlope;
      // Inference on backend-native: conv, bias and activation in one oneDNN primitive (and the
      // concatenation of a pair inside it too).
      if (!isTraining(kwargs) && !tapeOn() && first.dtype === 'float32' && (!pair || pair[1]!.dtype === 'float32') && hasKernel(NATIVE_CONV3D_INFERENCE_KERNEL)) {
        const ins: tf.NamedTensorMap = { x: first, ...(pair ? { x2: pair[1]! } : {}), filter: w, ...(this.bias ? { bias: this.bias.read() } : {}) };
        const attrs = { strides: [strides, strides, strides], pad, dilations: [1, 1, 1], ...(slope === undefined ? {} : { negativeSlope: slope }) };
        return tf.engine().runKernel(NATIVE_CONV3D_INFERENCE_KERNEL, ins, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      }
      const x = (pair ? tf.concat(pair, -1) : first) as tf.Tensor5D;
      const act = (t: tf.Tensor): tf.Tensor => (slope === undefined ? t : tf.leakyRelu(t, slope));
      if (!this.bias) return act(tf.conv3d(x, w, strides, pad));
      const native = x.dtype === 'float32' && hasKernel(NATIVE_CONV3D_BIAS_KERNEL) && hasKernel(NATIVE_CONV3D_BACKPROP_FILTER_BIAS_KERNEL);
      const s3 = [strides, strides, strides];
      const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [xx, ww, bb, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.Tensor1D, tf.GradSaveFunc];
        save([xx, ww]);
        // backend-native: the bias is added inside the convolution primitive (no extra pass).
        const value = native
          ? (tf.engine().runKernel(NATIVE_CONV3D_BIAS_KERNEL, { x: xx, filter: ww, bias: bb }, { strides: s3, pad, dilations: [1, 1, 1] } as unknown as tf.NamedAttrMap) as tf.Tensor)
          : tf.tidy(() => tf.add(tf.conv3d(xx, ww, strides, pad), bb));
        return {
          value,
          gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
            const grads = tf.tidy(() => {
              const g = (Array.isArray(dy) ? dy[0]! : dy) as tf.Tensor5D;
              const [sx, sw] = saved as [tf.Tensor5D, tf.Tensor5D];
              const dx = tf.conv3dTranspose(g, sw, sx.shape, strides, pad);
              if (native) {
                // Filter and bias gradients from one oneDNN primitive.
                const [dw, db] = tf.engine().runKernel(
                  NATIVE_CONV3D_BACKPROP_FILTER_BIAS_KERNEL,
                  { x: sx, dy: g } as unknown as tf.NamedTensorMap,
                  { strides: s3, pad, filterShape: sw.shape } as unknown as tf.NamedAttrMap,
                ) as tf.Tensor[];
                return [dx, dw!, db!];
              }
              const dw = tf.engine().runKernel(
                tf.Conv3DBackpropFilterV2,
                { x: sx, dy: g } as unknown as tf.NamedTensorMap,
                { strides, pad, filterShape: sw.shape } as unknown as tf.NamedAttrMap,
              ) as tf.Tensor;
              return [dx, dw, tf.sum(g, [0, 1, 2, 3])];
            });
            releaseUpstream(dy);
            return grads;
          },
        };
      });
      return act(op(x, w, this.bias.read()));
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      useBias: this.useBias,
      ...(this.negativeSlope === undefined ? {} : { negativeSlope: this.negativeSlope }),
    };
  }
}
serialization.registerClass(Conv3DBias);
