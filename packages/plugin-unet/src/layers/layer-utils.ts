import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The initializer type `addWeight` expects. tfjs-layers does not export its `Initializer`
 * class, so the type is taken from one of its public factories.
 */
export type LayersInitializer = ReturnType<typeof import('@tensorflow/tfjs-layers').initializers.ones>;

/** Keyword arguments tfjs-layers passes to `Layer.call` (`training` among them). */
export type CallKwargs = { [key: string]: unknown };

/** The one tensor a single-input layer was called with (tfjs may pass a one-element list). */
export function singleInput(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`${layer}: expected exactly one input tensor, got ${inputs.length}`);
    return inputs[0]!;
  }
  return inputs;
}

/** Channels (last axis) of a build-time input shape, with a clear error when unknown. */
export function channelsOf(inputShape: tfl.Shape | tfl.Shape[], layer: string): number {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  const c = shape[shape.length - 1];
  if (c == null) throw new Error(`${layer}: the channel axis (last) must be known when the layer is built`);
  return c;
}

/** `training` from the call's kwargs: tfjs-layers passes `{ training: true }` from fit/apply. */
export function isTraining(kwargs: CallKwargs | undefined): boolean {
  return kwargs?.['training'] === true;
}

/**
 * Release the upstream gradient of a custom op once its own gradients are computed.
 *
 * tfjs's backward pass (`backpropagateGradients`) keeps every intermediate gradient alive
 * until the whole pass ends, so a U-Net's backward holds a gradient for every activation on
 * top of the activations themselves. The gradient of an op's output is needed only by that
 * op's backward (the tape is walked in reverse order, so every consumer has already added
 * its part), and the engine only reads the gradients of the differentiated variables
 * afterwards; releasing it here frees that memory as the pass proceeds, as PyTorch does.
 * Caveat: when such an op's output is itself the function being differentiated and the
 * caller passes its own `dy`, that tensor is released too unless it was `tf.keep`-ed; inside a
 * network (a loss follows) this cannot happen.
 */
export function releaseUpstream(dy: tf.Tensor | tf.Tensor[]): void {
  for (const t of Array.isArray(dy) ? dy : [dy]) if (!t.kept) t.dispose();
}
