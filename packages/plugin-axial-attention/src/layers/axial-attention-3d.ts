import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@voxseg/core';
import { softmaxLastAxis } from '../ops/softmax-last-axis.js';
import { type BaseLayerArgs, singleShape, singleTensor, spatialShape } from './shape-utils.js';

/** Arguments of {@link AxialAttention3D}. */
export interface AxialAttention3DArgs extends BaseLayerArgs {
  /** Number of attention heads (required; the decoder block uses 2 * 2^stage). */
  heads: number;
  /** Width of each head (required; the decoder block uses 8 * 2^stage). */
  dimHead: number;
  /**
   * Spatial axes to attend along, in order. Default `['d', 'h', 'w']`, the reference's
   * order; a subset (e.g. `['d']`) gives a single-axis layer, with weights for those axes only.
   */
  axes?: AxialAxis[];
  /**
   * Seed of the weight initializers. Every projection starts as PyTorch's `nn.Linear`
   * default does in the reference: kernel and bias uniform in +-1/sqrt(fan_in). The 15
   * weights (3 axes x q, k, v, out kernel, out bias) draw their own tfjs seeds from a core
   * `Rng(seed)`, so no two of them start equal. Default: 0.
   */
  seed?: number;
}

/** A spatial axis of a channels-last volume `[N, D, H, W, C]`. */
export type AxialAxis = 'd' | 'h' | 'w';
type Axis = AxialAxis;
/** The spatial axes, in the order the reference attends along them. */
const AXES: readonly Axis[] = ['d', 'h', 'w'];

/**
 * Position of each axis in the 6-D view `[N, D, H, W, heads, dimHead]` of a projection, and
 * the permutation that turns that view into `[N, other1, other2, heads, L, dimHead]`: one
 * transpose both moves the attended axis next to the head width and splits the heads, so the
 * other two axes and the heads fold into the batch with a plain reshape.
 */
const TO_SEQUENCES: Record<Axis, number[]> = { d: [0, 2, 3, 4, 1, 5], h: [0, 1, 3, 4, 2, 5], w: [0, 1, 2, 4, 3, 5] };
const inverse = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));
const FROM_SEQUENCES: Record<Axis, number[]> = {
  d: inverse(TO_SEQUENCES.d),
  h: inverse(TO_SEQUENCES.h),
  w: inverse(TO_SEQUENCES.w),
};

interface AxisWeights {
  query: tfl.LayerVariable;
  key: tfl.LayerVariable;
  value: tfl.LayerVariable;
  outKernel: tfl.LayerVariable;
  outBias: tfl.LayerVariable;
}

/**
 * Multi-head self-attention along each spatial axis of a channels-last volume
 * `[N, D, H, W, C]`: first along D, then along H, then along W, each pass feeding the next
 * (the reference's `AxialAttention(dim=C, num_dimensions=3, dim_index=1,
 * sum_axial_out=False)` from lucidrains' `axial-attention` 0.5.0, as used by the BraTS 2021
 * winners' nnU-Net fork, `Generic_UNet` with `axial_attention=True`). Output shape equals
 * input shape; there is no residual inside the layer (the decoder block adds it).
 *
 * Each axis has its own projections, with `hd = heads * dimHead`:
 * query `C -> hd` (no bias), key and value `C -> hd` each (no bias; the reference fuses them
 * into one `to_kv` Linear `C -> 2 hd`, which has the same parameters), output `hd -> C` (with
 * bias). Per axis `4 * C * hd + C` parameters, `3 * (4 * C * hd + C)` in all.
 * Scores are `q . k * dimHead^-0.5`, softmax over the attended axis.
 *
 * Memory is linear in the volume: for the axis of length L the two other axes and the heads
 * fold into the batch of one batched matrix product, so the largest intermediate is the
 * `[N * (DHW / L) * heads, L, L]` score tensor, never a `(DHW)^2` matrix.
 */
export class AxialAttention3D extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'AxialAttention3D';

  readonly heads: number;
  readonly dimHead: number;
  readonly axes: readonly Axis[];
  private readonly seed: number;
  private weightsByAxis: Partial<Record<Axis, AxisWeights>> = {};

  constructor(args: AxialAttention3DArgs) {
    super(args);
    for (const key of ['heads', 'dimHead'] as const) {
      const v = args[key];
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`AxialAttention3D: ${key} must be a positive integer, got ${String(v)}`);
      }
    }
    this.heads = args.heads;
    this.dimHead = args.dimHead;
    this.seed = args.seed ?? 0;
    const axes = args.axes ?? AXES;
    if (axes.length === 0 || axes.some((a) => !AXES.includes(a)) || new Set(axes).size !== axes.length) {
      throw new Error(`AxialAttention3D: axes must be distinct names among d, h, w; got [${axes.join(', ')}]`);
    }
    this.axes = [...axes];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape);
    const [d, h, w, c] = spatialShape(shape, this.name);
    const hd = this.heads * this.dimHead;
    const rng = new Rng(this.seed);
    // nn.Linear's default init: kaiming_uniform(a = sqrt(5)) gives +-1/sqrt(fan_in), and
    // the bias uses the same bound.
    const uniform = (fanIn: number) =>
      tfl.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), seed: rng.nextUint32() });
    const add = (name: string, s: number[], fanIn: number) =>
      this.addWeight(name, s, 'float32', uniform(fanIn), undefined, true);
    for (const axis of this.axes) {
      this.weightsByAxis[axis] = {
        query: add(`${axis}_query_kernel`, [c, hd], c),
        key: add(`${axis}_key_kernel`, [c, hd], c),
        value: add(`${axis}_value_kernel`, [c, hd], c),
        outKernel: add(`${axis}_output_kernel`, [hd, c], hd),
        outBias: add(`${axis}_output_bias`, [c], hd),
      };
    }
    this.inputSpec = [{ ndim: 5, axes: { 1: d, 2: h, 3: w, 4: c } }];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = singleTensor(inputs);
      // Sequential, not summed: each axis attends over the previous axis's output.
      for (const axis of this.axes) x = this.attendAlong(x, axis);
      return x;
    });
  }

  /** One 1-D multi-head self-attention pass along `axis`; returns the same shape. */
  private attendAlong(x: tf.Tensor, axis: Axis): tf.Tensor {
    const wts = this.weightsByAxis[axis]!;
    const [n, d, h, w, c] = x.shape as [number, number, number, number, number];
    const heads = this.heads;
    const e = this.dimHead;
    const len = { d, h, w }[axis];
    const seqs = (n * d * h * w) / len;
    // Projections act per voxel, so they run on the untransposed rows [N*D*H*W, C].
    const rows = tf.reshape(x, [n * d * h * w, c]);
    const toSequences = (projected: tf.Tensor) => {
      const t = tf.transpose(tf.reshape(projected, [n, d, h, w, heads, e]), TO_SEQUENCES[axis]);
      return tf.reshape(t, [seqs * heads, len, e]);
    };
    // The scale goes into the [C, hd] query kernel: same scores, far fewer multiplies.
    const q = toSequences(tf.matMul(rows, tf.mul(wts.query.read(), e ** -0.5)));
    const k = toSequences(tf.matMul(rows, wts.key.read()));
    const v = toSequences(tf.matMul(rows, wts.value.read()));
    const probs = softmaxLastAxis(tf.matMul(q, k, false, true)); // [seqs*heads, L, L], softmax over keys
    const attended = tf.matMul(probs, v); // [seqs*heads, L, e]
    // Back to voxel order [N, D, H, W, heads, e] -> rows [N*D*H*W, hd] for the output projection.
    const seqShape = TO_SEQUENCES[axis].map((i) => [n, d, h, w, heads, e][i]!);
    const merged = tf.reshape(tf.transpose(tf.reshape(attended, seqShape), FROM_SEQUENCES[axis]), [n * d * h * w, heads * e]);
    const out = tf.add(tf.matMul(merged, wts.outKernel.read()), wts.outBias.read());
    return tf.reshape(out, [n, d, h, w, c]);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      heads: this.heads,
      dimHead: this.dimHead,
      axes: [...this.axes],
      seed: this.seed,
    };
  }
}
tf.serialization.registerClass(AxialAttention3D);
