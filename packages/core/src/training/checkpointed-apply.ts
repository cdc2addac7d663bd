import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { gradientsFreeing } from './backprop.js';

/**
 * Names the recomputed segment a layer belongs to (gradient checkpointing), or `undefined`
 * for layers whose activations are kept for the backward pass as usual. Consecutive layers
 * (in the model's topological order) with the same key form one segment. A network builder
 * provides one for its decoder stages ({@link NetworkBuilder.decoderStageOf}).
 */
export type SegmentOf = (layerName: string) => string | undefined;

/**
 * One {@link SegmentOf} from several (e.g. a network's encoder and decoder stages): a layer
 * belongs to the first segment that names it. `undefined` when none is given, so that
 * "no checkpointing" stays distinguishable.
 */
export function combineSegmentOf(...parts: (SegmentOf | undefined)[]): SegmentOf | undefined {
  const given = parts.filter((p): p is SegmentOf => p !== undefined);
  if (given.length <= 1) return given[0];
  return (name) => {
    for (const p of given) {
      const key = p(name);
      if (key !== undefined) return key;
    }
    return undefined;
  };
}

/** Options of {@link applyWithCheckpoints}. */
export interface CheckpointedApplyOptions {
  /** Passed to every layer's `call` (`{ training }`), as `model.apply(x, { training })`. Default `false`. */
  training?: boolean;
  /** Which layers are recomputed, grouped how. */
  segmentOf: SegmentOf;
}

/** tfjs-layers' graph node of a layer call (public fields of its `Node`, untyped in the exports). */
interface GraphNode {
  inputTensors: tfl.SymbolicTensor[];
  outputTensors: tfl.SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}

interface LayerStep {
  layer: tfl.layers.Layer;
  node: GraphNode;
}

interface Segment {
  key: string;
  steps: LayerStep[];
  /** Tensors the segment reads from outside it, in first-use order. */
  inputs: tfl.SymbolicTensor[];
  /** Tensors the segment produces that are read after it or are model outputs. */
  outputs: tfl.SymbolicTensor[];
}

type Step = { kind: 'layer'; step: LayerStep } | { kind: 'segment'; segment: Segment };

/** The single call site of each layer in a functional model, in topological order. */
function layerSteps(model: tfl.LayersModel): LayerStep[] {
  const steps: LayerStep[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const nodes = (layer as unknown as { inboundNodes: GraphNode[] }).inboundNodes;
    if (nodes.length !== 1) {
      throw new Error(`applyWithCheckpoints: layer ${layer.name} of model ${model.name} is called ${nodes.length} times; only layers called once are supported`);
    }
    steps.push({ layer, node: nodes[0]! });
  }
  return steps;
}

/** Group the layers into plain steps and segments (consecutive layers with one key). */
function plan(model: tfl.LayersModel, segmentOf: SegmentOf): Step[] {
  const steps = layerSteps(model);
  const out: Step[] = [];
  for (let i = 0; i < steps.length; ) {
    const key = segmentOf(steps[i]!.layer.name);
    if (key === undefined) {
      out.push({ kind: 'layer', step: steps[i]! });
      i++;
      continue;
    }
    let j = i;
    while (j < steps.length && segmentOf(steps[j]!.layer.name) === key) j++;
    const members = steps.slice(i, j);
    const produced = new Set(members.flatMap((s) => s.node.outputTensors.map((t) => t.id)));
    const inputs = new Map<number, tfl.SymbolicTensor>();
    for (const s of members) for (const t of s.node.inputTensors) if (!produced.has(t.id) && !inputs.has(t.id)) inputs.set(t.id, t);
    const readLater = new Set(steps.slice(j).flatMap((s) => s.node.inputTensors.map((t) => t.id)));
    for (const t of model.outputs) readLater.add(t.id);
    const outputs = members.flatMap((s) => s.node.outputTensors).filter((t) => readLater.has(t.id));
    out.push({ kind: 'segment', segment: { key, steps: members, inputs: [...inputs.values()], outputs } });
    i = j;
  }
  return out;
}

/** Run layer calls on concrete tensors; `values` maps symbolic tensor ids to tensors. */
function runSteps(steps: readonly LayerStep[], values: Map<number, tf.Tensor>, training: boolean): void {
  for (const { layer, node } of steps) {
    const ins = node.inputTensors.map((t) => {
      const v = values.get(t.id);
      if (!v) throw new Error(`applyWithCheckpoints: input ${t.name} of layer ${layer.name} was not computed`);
      return v;
    });
    const result = layer.apply(ins.length === 1 ? ins[0]! : ins, { ...node.callArgs, training }) as tf.Tensor | tf.Tensor[];
    const outs = Array.isArray(result) ? result : [result];
    node.outputTensors.forEach((t, k) => values.set(t.id, outs[k]!));
  }
}

/** One tensor from several (customGrad returns one): flattened and concatenated. */
function pack(tensors: tf.Tensor[]): tf.Tensor {
  return tensors.length === 1 ? tensors[0]! : tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
}

function unpack(packed: tf.Tensor, shapes: number[][]): tf.Tensor[] {
  if (shapes.length === 1) return [packed];
  let offset = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const part = tf.reshape(tf.slice(packed, [offset], [size]), shape);
    offset += size;
    return part;
  });
}

/**
 * Run the segment's layers under `tf.customGrad`: the forward pass keeps none of the
 * segment's intermediate activations on the tape (only its inputs), and the gradient
 * function runs the segment's forward again, with a tape, to get the gradients of its
 * inputs and trainable weights. Non-trainable state the layers update in training mode
 * (BatchNorm's running statistics) is restored after the recomputation, so it is updated
 * once per step as without checkpointing.
 */
function runSegment(segment: Segment, values: Map<number, tf.Tensor>, training: boolean): void {
  const xs = segment.inputs.map((t) => values.get(t.id)!);
  const layers = segment.steps.map((s) => s.layer);
  const variables = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const state = layers.flatMap((l) => l.nonTrainableWeights);
  const nIn = xs.length;
  const forward = (inputs: tf.Tensor[]): tf.Tensor[] => {
    const local = new Map<number, tf.Tensor>();
    segment.inputs.forEach((t, k) => local.set(t.id, inputs[k]!));
    runSteps(segment.steps, local, training);
    return segment.outputs.map((t) => local.get(t.id)!);
  };
  let shapes: number[][] = [];
  const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args.slice(0, nIn) as tf.Tensor[];
    save(inputs);
    const outs = forward(inputs);
    shapes = outs.map((o) => o.shape);
    return {
      value: pack(outs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        // A tidy of its own: the recomputed activations are freed as soon as this segment's
        // gradients exist (the surrounding backward pass only tidies at its very end).
        tf.tidy(() => {
          const snapshot = state.map((w) => tf.clone(w.read()));
          try {
            const xsAll = [...saved, ...variables];
            // The freeing walk frees the recomputed activations and their gradients as it
            // goes (and restores the outer backward pass's tape, which it still needs).
            const { value, grads } = gradientsFreeing(() => pack(forward(saved)), xsAll, dy);
            value.dispose();
            return grads.map((g, k) => g ?? tf.zerosLike(xsAll[k]!));
          } finally {
            state.forEach((w, k) => w.write(snapshot[k]!));
          }
        }),
    };
  });
  const packed = fn(...xs, ...variables);
  unpack(packed, shapes).forEach((t, k) => values.set(segment.outputs[k]!.id, t));
}

/**
 * `model.apply(inputs, { training })` for a functional tfjs-layers model, with gradient
 * checkpointing: the layers that `segmentOf` names are run in segments whose intermediate
 * activations are recomputed in the backward pass instead of being kept from the forward
 * pass (Chen et al. 2016, "Training deep nets with sublinear memory cost"; PyTorch's
 * `torch.utils.checkpoint`). Outputs and gradients equal those of `model.apply` up to
 * float rounding; the price is one more forward pass of each segment per step.
 *
 * Requirements: every layer is called once in the model (no shared layers), and a
 * segment's layers are deterministic given their inputs and weights (no dropout).
 */
export function applyWithCheckpoints(model: tfl.LayersModel, inputs: tf.Tensor | tf.Tensor[], options: CheckpointedApplyOptions): tf.Tensor | tf.Tensor[] {
  const training = options.training ?? false;
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length !== model.inputs.length) {
    throw new Error(`applyWithCheckpoints: model ${model.name} takes ${model.inputs.length} inputs, got ${list.length}`);
  }
  return tf.tidy(() => {
    const values = new Map<number, tf.Tensor>();
    model.inputs.forEach((t, k) => values.set(t.id, list[k]!));
    for (const step of plan(model, options.segmentOf)) {
      if (step.kind === 'layer') runSteps([step.step], values, training);
      else runSegment(step.segment, values, training);
    }
    const outs = model.outputs.map((t) => values.get(t.id)!);
    return outs.length === 1 ? outs[0]! : outs;
  });
}
