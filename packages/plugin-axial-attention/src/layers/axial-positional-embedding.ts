import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, singleShape, singleTensor, spatialShape } from './shape-utils.js';

/**
 * Arguments of {@link AxialPositionalEmbedding}. The embedding sizes are taken from the input
 * shape in `build()`, so the layer needs static spatial dimensions.
 */
export interface AxialPositionalEmbeddingArgs extends BaseLayerArgs {
  /**
   * Seed of the initializer. The embeddings start from a standard normal (mean 0, std 1),
   * as `torch.randn` in the reference, drawn with tfjs's seeded generator
   * (`tf.randomNormal(shape, 0, 1, 'float32', seed)`). Default: none, in which case tfjs
   * uses its own unseeded generator; voxseg's block factory always passes a seed drawn
   * from a core `Rng`, so built networks are reproducible.
   */
  seed?: number;
}

/**
 * Axial positional embedding for channels-last volumes `[N, D, H, W, C]`: one learned
 * embedding per spatial axis, broadcast and added to the input.
 *
 * The three weights have shapes `[1, D, 1, 1, C]`, `[1, 1, H, 1, C]` and `[1, 1, 1, W, C]`:
 * the channels-last equivalents of the reference's `C x D x 1 x 1`, `C x 1 x H x 1`,
 * `C x 1 x 1 x W` parameters (lucidrains' `axial-attention` 0.5.0,
 * `AxialPositionalEmbedding(dim=C, shape=(D, H, W))`, `emb_dim_index=1`), so the layer has
 * `C * (D + H + W)` trainable parameters. Output shape equals input shape.
 */
export class AxialPositionalEmbedding extends tfl.layers.Layer {
  /** Name under which tfjs serializes the layer (`serialization.registerClass`). */
  static className = 'AxialPositionalEmbedding';

  private readonly embeddingsInitializer: ReturnType<typeof tfl.initializers.randomNormal>;
  private readonly seed: number | undefined;
  private embeddings: tfl.LayerVariable[] = [];

  constructor(args: AxialPositionalEmbeddingArgs = {}) {
    super(args);
    this.seed = args.seed;
    this.embeddingsInitializer = tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed });
    this.supportsMasking = false;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape);
    const [d, h, w, c] = spatialShape(shape, this.name);
    this.embeddings = [
      [1, d, 1, 1, c],
      [1, 1, h, 1, c],
      [1, 1, 1, w, c],
    ].map((s, i) =>
      this.addWeight(`embedding_${'dhw'[i]}`, s, 'float32', this.embeddingsInitializer, undefined, true),
    );
    this.inputSpec = [{ ndim: 5, axes: { 1: d, 2: h, 3: w, 4: c } }];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = singleTensor(inputs);
      // Three broadcast adds, in the reference's order (D, then H, then W).
      for (const e of this.embeddings) x = tf.add(x, e.read());
      return x;
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    // Only the seed is configuration: the initializer is fixed (standard normal), and saved
    // models carry the trained embeddings as weights.
    const config: tf.serialization.ConfigDict = {};
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(AxialPositionalEmbedding);
