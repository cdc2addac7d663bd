import type * as tfl from '@tensorflow/tfjs-layers';
import type { ExperimentContext } from '../container/experiment.js';

/** Options every network builder understands; builders add their own. */
export interface NetworkOptions {
  /** Image channels (4 for BraTS). */
  inChannels: number;
  /** Output channels (3 regions for BraTS). */
  outChannels: number;
  /** Cubic patch edge or [D, H, W]. */
  patchSize: number | [number, number, number];
  /** Deep supervision: one output per decoder stage (highest resolution first). */
  deepSupervision?: boolean;
  /** Builder-specific options. */
  [key: string]: unknown;
}

/**
 * Builds a tfjs-layers model from options. The model takes `[N, D, H, W, inChannels]` and
 * returns logits `[N, D, H, W, outChannels]` (a list, highest resolution first, with deep
 * supervision). Registered under a name such as `unet`.
 */
export interface NetworkBuilder<O extends NetworkOptions = NetworkOptions> {
  readonly name: string;
  readonly description?: string;
  build(options: O, ctx: ExperimentContext): tfl.LayersModel;
  /**
   * Gradient checkpointing of the decoder (`training.checkpointDecoder`): the decoder stage a
   * layer of a model this builder made belongs to (one recomputed segment per stage, see
   * `applyWithCheckpoints`), or `undefined` for the other layers. Optional: a builder without
   * it does not support the option, and a run that asks for it is refused with that reason.
   */
  decoderStageOf?(layerName: string): string | undefined;
  /**
   * Gradient checkpointing of the encoder (`training.checkpointEncoder`): the encoder stage a
   * layer belongs to (one recomputed segment per stage), or `undefined` for the other layers.
   * Optional, as {@link decoderStageOf}.
   */
  encoderStageOf?(layerName: string): string | undefined;
}

/**
 * A network variant described as data: a builder name plus options (variants are
 * configs, not classes). E.g. `BL+L+GN` = `{ network: 'unet', options: { widthMultiplier: 2,
 * maxFilters: 512, norm: 'group' } }`.
 */
export interface NetworkPreset {
  readonly name: string;
  readonly description?: string;
  /** Name of a registered {@link NetworkBuilder}. */
  readonly network: string;
  /** Options merged under the caller's `NetworkOptions`. */
  readonly options: Record<string, unknown>;
}
