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
