import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@voxseg/core';
import { attendHead } from '../ops/attend-head.js';
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

/** Dimension index of each spatial axis in `[N, D, H, W, C]`. */
const AXIS_DIM: Record<Axis, number> = { d: 1, h: 2, w: 3 };

/**
 * The layout that puts `axis` next to the channels, keeping the other two spatial axes in
 * their current order in front of it: `[N, a, b, axis, C]` as original dimension indices.
 */
function layoutFor(axis: Axis, current: readonly number[]): number[] {
  const dim = AXIS_DIM[axis];
  return [0, ...current.slice(1, 4).filter((d) => d !== dim), dim, 4];
}

/** Transpose `x` from `from` to `to` (both lists of original dimension indices). */
function relayout(x: tf.Tensor, from: readonly number[], to: readonly number[]): tf.Tensor {
  if (from.every((d, i) => d === to[i])) return x;
  return tf.transpose(x, to.map((d) => from.indexOf(d)));
}

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
 * into one `to_kv` Linear `C -> 2 hd` whose first hd outputs are k and last hd are v: the same
 * parameters; import its weight as key = rows 0..hd-1, value = rows hd..2hd-1), output `hd -> C` (with
 * bias). Per axis `4 * C * hd + C` parameters, `3 * (4 * C * hd + C)` in all.
 * Scores are `q . k * dimHead^-0.5`, softmax over the attended axis.
 *
 * Memory is linear in the volume: for the axis of length L the two other axes fold into the
 * batch of batched matrix products (one per head), so the score tensors of a pass total
 * `N * (DHW / L) * heads * L * L` elements, never a `(DHW)^2` matrix.
 */
export class AxialAttention3D extends tfl.layers.Layer {
  /** Name under which tfjs serializes the layer (`serialization.registerClass`). */
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
      // Sequential, not summed: each axis attends over the previous axis's output. Between
      // passes the tensor stays in the previous pass's layout (projections act per voxel, so
      // any layout works) and moves straight to the next one: for D, H, W that is three
      // C-wide transposes in all, the last one landing back on [N, D, H, W, C].
      const identity = [0, 1, 2, 3, 4];
      let layout = identity;
      for (const axis of this.axes) {
        const next = layoutFor(axis, layout);
        const input = x;
        x = tf.tidy(() => this.attendAlongLast(relayout(input, layout, next), axis));
        layout = next;
      }
      return relayout(x, layout, identity);
    });
  }

  /**
   * One 1-D multi-head self-attention pass along the sequence axis of `xt` = `[N, a, b, L, C]`
   * (the caller has moved `axis` there); returns the same shape.
   *
   * The heads come from a column split of the [N*a*b*L, hd] projections, so no hd-wide
   * tensor is ever transposed (hd is 1 to 13 times C in the reference decoder, and tfjs
   * transposes element by element); only the C-wide input moves between passes.
   */
  private attendAlongLast(xt: tf.Tensor, axis: Axis): tf.Tensor {
    const wts = this.weightsByAxis[axis]!;
    const heads = this.heads;
    const e = this.dimHead;
    const seqShape = xt.shape as [number, number, number, number, number];
    const [n, a, b, len, c] = seqShape;
    const seqs = n * a * b;
    const rows = tf.reshape(xt, [seqs * len, c]);
    // One [C, hd] projection per q, k, v, split column-wise into the heads (a native copy,
    // whose gradient is one concat). The scale goes into the query kernel: same scores, far
    // fewer multiplies.
    const project = (kernel: tf.Tensor) => {
      const projected = tf.matMul(rows, kernel); // [seqs*L, hd]
      const parts = heads === 1 ? [projected] : tf.split(projected, heads, 1);
      return parts.map((t) => tf.reshape(t, [seqs, len, e]));
    };
    const qs = project(tf.mul(wts.query.read(), e ** -0.5));
    const ks = project(wts.key.read());
    const vs = project(wts.value.read());
    const perHead: tf.Tensor[] = [];
    for (let h = 0; h < heads; h++) perHead.push(attendHead(qs[h]!, ks[h]!, vs[h]!));
    // Heads side by side, as the reference's `reshape(b, t, h, e)` lays them out.
    const merged = tf.reshape(heads === 1 ? perHead[0]! : tf.concat(perHead, 2), [seqs * len, heads * e]);
    return tf.reshape(tf.add(tf.matMul(merged, wts.outKernel.read()), wts.outBias.read()), seqShape);
  }

  /**
   * Float32 elements per sample this layer keeps for the backward pass (the training memory
   * estimate of `@voxseg/core` reads it): per axis over V voxels, the per-head q, k, v and the
   * merged heads (4 x V x heads*dimHead) and two C-wide copies of the sequence (the transposed
   * input and the output projection's input); then the output. No score matrix is kept (each
   * head recomputes its own in its gradient, see `attendHead`), but while one head's gradient
   * runs it holds three `[V / L, L, L]` tensors (the probabilities, their gradient, the scores'
   * gradient): 3 x V x L for the longest axis L, counted once.
   */
  trainingActivationElements(inputShape: tfl.Shape | tfl.Shape[]): number {
    const [d, h, w, c] = spatialShape(singleShape(inputShape), this.name);
    const v = d * h * w;
    const hd = this.heads * this.dimHead;
    const len: Record<Axis, number> = { d, h, w };
    const longest = Math.max(...this.axes.map((axis) => len[axis]));
    return this.axes.reduce((n, _axis) => n + 4 * v * hd + 2 * v * c, v * c + 3 * v * longest);
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
