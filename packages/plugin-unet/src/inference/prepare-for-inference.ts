import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNormalization5D } from '../layers/batch-normalization-5d.js';

/** Options of {@link prepareForInference}. */
export interface PrepareForInferenceOptions {
  /**
   * Keep only the first output (the full-resolution logits, all a sliding window reads);
   * the deep-supervision heads and whatever feeds only them are dropped. Default `true`.
   */
  firstOutputOnly?: boolean;
  /** Fold each BatchNorm (and the LeakyReLU it applies) into the conv before it. Default `true`. */
  foldBatchNorm?: boolean;
  /**
   * Drop each channel concatenation of two tensors that feeds only a `Conv3DBias` (a U-Net
   * decoder's concat of the upsampled tensor and its skip): the conv takes both tensors and
   * convolves their concatenation itself, which backend-native does without writing the
   * concatenated tensor. Same weights, same result. Default `true`.
   */
  fuseConcat?: boolean;
}

/** One layer entry of a functional model's JSON (`model.toJSON(null, false)`). */
interface LayerJson {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  /** Per call of the layer: its inputs, each `[layer, node index, tensor index, kwargs?]`. */
  inbound_nodes: [string, number, number, unknown?][][];
}
interface ModelJson {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
}

/**
 * A copy of a trained network rewritten for inference, with the same outputs (first output
 * only by default) up to float rounding:
 *
 * - every `Conv3DBias -> BatchNormalization5D` pair becomes one `Conv3DBias` whose weights
 *   and bias have the BatchNorm's inference map folded in (`W' = W * s`, `b' = b * s + t` per
 *   output channel, with `s = gamma / sqrt(var + eps)` and `t = beta - mean * s` from the
 *   running statistics) and which applies the BatchNorm's LeakyReLU itself. On
 *   `@voxseg/backend-native` that conv runs as one oneDNN primitive (convolution, bias and
 *   activation in one pass), where the model as trained makes five passes over each
 *   activation (conv + bias, then BatchNorm as x * s + t, and the activation).
 * - GroupNorm/InstanceNorm layers stay (their statistics depend on the input); they run their
 *   fused native kernel with the LeakyReLU inside, as in training.
 * - only the first output is kept (`firstOutputOnly`), so the deep-supervision heads are not
 *   computed.
 * - a two-input channel `Concatenate` feeding only a `Conv3DBias` is dropped and the conv takes
 *   the two tensors (`fuseConcat`): on backend-native each goes straight into the convolution's
 *   input buffer (a decoder stage's concat otherwise writes a full-resolution copy of both).
 *
 * The input model is not modified; the copy owns its own weights (dispose it when done).
 * Works on any functional model of this package's layers, decoder blocks included (layers it
 * does not fold are copied as they are). A pair is folded only when the conv's output feeds
 * nothing but the BatchNorm.
 */
export async function prepareForInference(model: tfl.LayersModel, options: PrepareForInferenceOptions = {}): Promise<tfl.LayersModel> {
  const topo = model.toJSON(undefined, false) as unknown as ModelJson;
  if (!topo?.config?.layers || !Array.isArray(topo.config.output_layers)) {
    throw new Error(`prepareForInference: model "${model.name}" is not a functional model (no layer graph in its JSON)`);
  }
  const cfg = topo.config;
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const consumers = new Map<string, number>();
  for (const l of cfg.layers) for (const node of l.inbound_nodes) for (const ref of node) consumers.set(ref[0], (consumers.get(ref[0]) ?? 0) + 1);
  for (const ref of cfg.output_layers) consumers.set(ref[0], (consumers.get(ref[0]) ?? 0) + 1);

  // 1. Fold conv -> BatchNorm pairs: the conv takes the BatchNorm's place in the graph.
  const folds = new Map<string, string>(); // conv name -> BatchNorm name
  if (options.foldBatchNorm ?? true) {
    const rename = new Map<string, string>(); // BatchNorm name -> conv name
    for (const bn of cfg.layers) {
      if (bn.class_name !== 'BatchNormalization5D' || bn.inbound_nodes.length !== 1 || bn.inbound_nodes[0]!.length !== 1) continue;
      const [convName, nodeIndex, tensorIndex] = bn.inbound_nodes[0]![0]!;
      const conv = byName.get(convName);
      if (!conv || conv.class_name !== 'Conv3DBias' || nodeIndex !== 0 || tensorIndex !== 0) continue;
      if (conv.inbound_nodes.length !== 1 || consumers.get(convName) !== 1) continue;
      if (conv.config['negative_slope'] != null || conv.config['negativeSlope'] != null) continue;
      const slope = bn.config['negative_slope'] ?? bn.config['negativeSlope'];
      conv.config['use_bias'] = true;
      if (slope != null) conv.config['negative_slope'] = slope;
      folds.set(convName, bn.name);
      rename.set(bn.name, convName);
    }
    cfg.layers = cfg.layers.filter((l) => !rename.has(l.name));
    for (const l of cfg.layers) for (const node of l.inbound_nodes) for (const ref of node) ref[0] = rename.get(ref[0]) ?? ref[0];
    for (const ref of cfg.output_layers) ref[0] = rename.get(ref[0]) ?? ref[0];
  }

  // 2. Concat -> conv: the conv takes the concat's inputs (see Conv3DBias on two inputs).
  if (options.fuseConcat ?? true) {
    const dropped = new Set<string>();
    for (const conv of cfg.layers) {
      if (conv.class_name !== 'Conv3DBias' || conv.inbound_nodes.length !== 1 || conv.inbound_nodes[0]!.length !== 1) continue;
      const [catName, nodeIndex, tensorIndex] = conv.inbound_nodes[0]![0]!;
      const cat = byName.get(catName);
      if (!cat || cat.class_name !== 'Concatenate' || nodeIndex !== 0 || tensorIndex !== 0) continue;
      if (cat.inbound_nodes.length !== 1 || cat.inbound_nodes[0]!.length !== 2 || consumers.get(catName) !== 1) continue;
      const axis = cat.config['axis'];
      if (axis !== -1 && axis !== 4) continue;
      conv.inbound_nodes[0] = cat.inbound_nodes[0]!.map((ref) => [...ref] as [string, number, number, unknown?]);
      dropped.add(catName);
    }
    cfg.layers = cfg.layers.filter((l) => !dropped.has(l.name));
  }

  // 3. Outputs, and only the layers they need.
  if (options.firstOutputOnly ?? true) cfg.output_layers = cfg.output_layers.slice(0, 1);
  const needed = new Set<string>();
  const stack = cfg.output_layers.map((r) => r[0]);
  const current = new Map(cfg.layers.map((l) => [l.name, l]));
  while (stack.length) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    for (const node of current.get(name)?.inbound_nodes ?? []) for (const ref of node) stack.push(ref[0]);
  }
  cfg.layers = cfg.layers.filter((l) => needed.has(l.name));

  const out = await tfl.models.modelFromJSON({ modelTopology: topo as unknown as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);

  // 4. Weights: copied layer by layer; folded convs computed from the pair.
  for (const layer of out.layers) {
    const source = model.getLayer(layer.name);
    const bnName = folds.get(layer.name);
    if (bnName === undefined) {
      if (layer.weights.length > 0) layer.setWeights(source.getWeights());
      continue;
    }
    const bn = model.getLayer(bnName);
    if (!(bn instanceof BatchNormalization5D)) throw new Error(`prepareForInference: layer ${bnName} is not a BatchNormalization5D`);
    const folded = tf.tidy(() => {
      const { scale, shift } = bn.inferenceAffine();
      const [kernel, bias] = source.getWeights() as [tf.Tensor, tf.Tensor | undefined];
      // Kernel [kd, kh, kw, in, out]: the scale broadcasts over the last (output) axis.
      return [tf.mul(kernel, scale), bias ? tf.add(tf.mul(bias, scale), shift) : shift];
    });
    layer.setWeights(folded);
    tf.dispose(folded);
  }
  const meta = model.getUserDefinedMetadata();
  if (meta) out.setUserDefinedMetadata(meta);
  return out;
}
