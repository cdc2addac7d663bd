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
 * Permutation that brings the attended axis next to the channels, `[N, a, b, L, C]`, so the
 * other two axes fold into the batch with a plain reshape; W is already there. The H swap is
 * its own inverse; D's inverse is listed beside it.
 */
const TO_SEQUENCES: Record<Axis, number[] | null> = { d: [0, 2, 3, 1, 4], h: [0, 1, 3, 2, 4], w: null };
const FROM_SEQUENCES: Record<Axis, number[] | null> = { d: [0, 3, 1, 2, 4], h: [0, 1, 3, 2, 4], w: null };

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
 * Memory is linear in the volume: for the axis of length L the two other axes fold into the
 * batch of batched matrix products (one per head), so the score tensors of a pass total
 * `N * (DHW / L) * heads * L * L` elements, never a `(DHW)^2` matrix.
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

  /**
   * One 1-D multi-head self-attention pass along `axis`; returns the same shape.
   *
   * Only the C-wide input and output are transposed (and not at all for W): the heads are
   * handled by splitting the [C, hd] kernels into per-head [C, dimHead] kernels, so no
   * hd-wide projection is ever transposed (hd is 4 to 13 times C in the reference decoder,
   * and tfjs transposes element by element). The split's gradient is a single concat.
   */
  private attendAlong(x: tf.Tensor, axis: Axis): tf.Tensor {
    const wts = this.weightsByAxis[axis]!;
    const heads = this.heads;
    const e = this.dimHead;
    const toSeq = TO_SEQUENCES[axis];
    const xt = toSeq ? tf.transpose(x, toSeq) : x; // [N, a, b, L, C]
    const seqShape = xt.shape as [number, number, number, number, number];
    const [n, a, b, len, c] = seqShape;
    const seqs = n * a * b;
    const rows = tf.reshape(xt, [seqs * len, c]);
    // The scale goes into the [C, hd] query kernel: same scores, far fewer multiplies.
    const split = (kernel: tf.Tensor, scale = 1) => tf.split(scale === 1 ? kernel : tf.mul(kernel, scale), heads, 1);
    const wq = split(wts.query.read(), e ** -0.5);
    const wk = split(wts.key.read());
    const wv = split(wts.value.read());
    const project = (w: tf.Tensor) => tf.reshape(tf.matMul(rows, w), [seqs, len, e]);
    const perHead: tf.Tensor[] = [];
    for (let h = 0; h < heads; h++) {
      const scores = tf.matMul(project(wq[h]!), project(wk[h]!), false, true); // [seqs, L, L]
      perHead.push(tf.matMul(softmaxLastAxis(scores), project(wv[h]!))); // [seqs, L, e]
    }
    // Heads side by side, as the reference's `reshape(b, t, h, e)` lays them out.
    const merged = tf.reshape(heads === 1 ? perHead[0]! : tf.concat(perHead, 2), [seqs * len, heads * e]);
    const out = tf.reshape(tf.add(tf.matMul(merged, wts.outKernel.read()), wts.outBias.read()), seqShape);
    const fromSeq = FROM_SEQUENCES[axis];
    return fromSeq ? tf.transpose(out, fromSeq) : out;
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
