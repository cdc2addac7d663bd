import * as tf from '@tensorflow/tfjs-core';

/**
 * One recorded op of tfjs-core's tape (the fields of its internal `TapeNode` this walk reads).
 * `gradient` turns the output gradients into lazy input gradients; `saved` holds the clones
 * of the tensors the op kept for its gradient.
 */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs-core's engine the walk drives (the same ones `engine.gradients` uses). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  tidy<R extends tf.TensorContainer>(nameOrFn: string | (() => R), fn?: () => R): R;
}

/**
 * The tape's nodes on a path from one of `xs` to `y`, inputs pruned to those that depend on
 * `xs`, in recording order: tfjs-core's `getFilteredNodesXToY` (tape.ts), which is not part of
 * its public API.
 */
function filterTape(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) toY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    filtered.push({ ...node, inputs });
  }
  return filtered;
}

/** What {@link gradientsFreeing} returns: `f()`'s value and one gradient per x (`null` where f does not depend on it). */
export interface FreeingGradients {
  value: tf.Tensor;
  grads: (tf.Tensor | null)[];
}

/**
 * `tf.engine().gradients(f, xs, dy, true)` with a backward walk that frees memory as it goes.
 *
 * tfjs-core's walk (`backpropagateGradients`) keeps every intermediate gradient and every
 * tensor an op saved for its gradient until the whole backward pass ends, so its peak holds
 * all forward activations plus all their gradients. This walk visits the same nodes in the
 * same order with the same arithmetic (so the gradients are bit-identical), but:
 * - the gradient of a tensor is disposed as soon as the op that produced the tensor has
 *   consumed it (every other consumer of the tensor comes later on the tape, so its
 *   contribution has already been accumulated);
 * - a partial gradient is disposed as soon as it is added to the running sum;
 * - the tensors an op saved for its gradient are disposed right after its gradient ran,
 *   and those of ops off the x -> y path before the walk starts.
 * The peak is then about the activations still to be visited plus the gradients in flight,
 * as in PyTorch's autograd.
 *
 * Must be called outside any tape-recording scope (no higher-order gradients); it may be
 * called inside another walk's gradient function (gradient checkpointing does): the
 * engine's active tape is restored afterwards.
 *
 * @param dy the seed gradient of `f()`'s value (default ones); it is not disposed
 */
export function gradientsFreeing(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy?: tf.Tensor): FreeingGradients {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth !== 0) {
    throw new Error('gradientsFreeing: called while a tape is recording (higher-order gradients are not supported)');
  }
  if (xs.length === 0) throw new Error('gradientsFreeing: received an empty list of xs');
  if (dy !== undefined && dy.dtype !== 'float32') throw new Error(`gradientsFreeing: dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const outerTape = engine.state.activeTape;
  let tape: TapeNode[] = [];
  try {
    return engine.tidy('gradients', () => {
      const y = engine.scopedRun(
        () => engine.startTape(),
        () => engine.endTape(),
        () => engine.tidy('forward', f),
      );
      tape = engine.state.activeTape ?? [];
      if (!(y instanceof tf.Tensor)) throw new Error('gradientsFreeing: f() must return a tensor');
      const filtered = filterTape(tape, xs, y);
      const onPath = new Set(filtered.map((n) => n.id));
      // What ops off the path saved (e.g. running statistics' updates) is never needed.
      for (const node of tape) if (!onPath.has(node.id)) node.saved?.forEach((t) => t.dispose());
      const grads = engine.tidy('backward', (): tf.TensorContainer => {
        const keep = new Set(xs.map((x) => x.id));
        const seed = dy ?? tf.onesLike(y);
        const acc = new Map<number, tf.Tensor>([[y.id, seed]]);
        const release = (t: tf.Tensor) => {
          if (t !== dy) t.dispose();
        };
        for (let i = filtered.length - 1; i >= 0; i--) {
          const node = filtered[i]!;
          const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
          if (!node.gradient) throw new Error(`gradientsFreeing: no gradient function for ${node.kernelName}`);
          const inputGrads = node.gradient(dys);
          for (const name of Object.keys(node.inputs)) {
            const lazy = inputGrads[name];
            if (!lazy) throw new Error(`gradientsFreeing: cannot backprop through input ${name} of ${node.kernelName}; gradients exist for ${Object.keys(inputGrads).join(', ')}`);
            let dx = engine.tidy(() => lazy());
            // A gradient function may hand back one of its own inputs (a dy, a saved tensor):
            // those are disposed below, so the running sum gets its own handle.
            if (dys.includes(dx) || node.saved?.includes(dx) || [...acc.values()].includes(dx)) dx = tf.clone(dx);
            const x = node.inputs[name]!;
            if (dx.dtype !== 'float32') throw new Error(`gradientsFreeing: the gradient of input ${name} of ${node.kernelName} must be float32, got ${dx.dtype}`);
            if (!tf.util.arraysEqual(dx.shape, x.shape)) {
              throw new Error(`gradientsFreeing: the gradient of input ${name} of ${node.kernelName} has shape [${dx.shape.join(', ')}], the input [${x.shape.join(', ')}]`);
            }
            const cur = acc.get(x.id);
            if (cur === undefined) {
              acc.set(x.id, dx);
            } else {
              acc.set(x.id, tf.add(cur, dx));
              release(cur);
              dx.dispose();
            }
          }
          // Every consumer of this op's outputs came later on the tape: their gradients are final and used.
          for (const o of node.outputs) {
            const g = acc.get(o.id);
            if (g !== undefined && !keep.has(o.id)) {
              release(g);
              acc.delete(o.id);
            }
          }
          node.saved?.forEach((t) => t.dispose());
        }
        return xs.map((x) => acc.get(x.id) ?? null) as unknown as tf.TensorContainer;
      }) as unknown as (tf.Tensor | null)[];
      return { value: y, grads } as unknown as tf.TensorContainer;
    }) as unknown as FreeingGradients;
  } finally {
    for (const node of tape) node.saved?.forEach((t) => t.dispose());
    engine.state.activeTape = outerTape;
  }
}

/**
 * `tf.variableGrads(f, varList)` computed by {@link gradientsFreeing}: the loss and the
 * gradient of each trainable variable it depends on, by variable name; the same values as
 * `tf.variableGrads`, bit for bit, at a lower peak memory.
 */
export function variableGradsFreeing(f: () => tf.Scalar, varList: readonly tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const vars = varList.filter((v) => v.trainable);
  if (vars.length === 0) throw new Error('variableGradsFreeing: no trainable variables');
  const { value, grads } = gradientsFreeing(
    () => {
      const y = f();
      if (y.rank !== 0) throw new Error(`variableGradsFreeing: f() must return a scalar, got rank ${y.rank}`);
      return y;
    },
    vars,
  );
  const named: tf.NamedTensorMap = {};
  vars.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  return { value: value as tf.Scalar, grads: named };
}
