import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * tfjs-layers' base `LayerArgs` (`name`, `trainable`, `inputShape`, `dtype`, ...), which the
 * package does not export by name: taken from the `Layer` constructor.
 */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** The single input shape of a one-input layer (tfjs passes a list for multi-input layers). */
export function singleShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape {
  if (Array.isArray(shape[0])) {
    const list = shape as tfl.Shape[];
    if (list.length !== 1) throw new Error(`expected one input shape, got ${list.length}`);
    return list[0]!;
  }
  return shape as tfl.Shape;
}

/** The single input tensor of a one-input layer. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`expected one input tensor, got ${inputs.length}`);
    return inputs[0]!;
  }
  return inputs;
}

/**
 * `[D, H, W, C]` of a channels-last 5-D shape `[N, D, H, W, C]`; throws a one-line error
 * naming the layer when the rank is wrong or a spatial/channel dimension is not static.
 */
export function spatialShape(shape: tfl.Shape, layerName: string): [number, number, number, number] {
  if (shape.length !== 5) {
    throw new Error(`${layerName}: expected a 5-D channels-last input [N, D, H, W, C], got shape [${shape.join(', ')}]`);
  }
  const dims = shape.slice(1) as (number | null)[];
  if (dims.some((v) => v == null || !(v > 0))) {
    throw new Error(
      `${layerName}: D, H, W and C must be static positive sizes, got [${shape.map((v) => v ?? 'null').join(', ')}]`,
    );
  }
  return dims as [number, number, number, number];
}
