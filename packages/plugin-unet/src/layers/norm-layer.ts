import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchNormalization5D } from './batch-normalization-5d.js';
import { GroupNormalization } from './group-normalization.js';
import { InstanceNormalization } from './instance-normalization.js';

/** The normalisations a network can choose by name. */
export type NormKind = 'batch' | 'group' | 'instance';

/** Settings shared by the norm layers a network creates. */
export interface NormSettings {
  kind: NormKind;
  /** Groups for `group` (default 32, capped at the channel count). */
  groups?: number;
  /** Default 1e-5. */
  epsilon?: number;
  /** BatchNorm running-statistics momentum, PyTorch convention. Default 0.1. */
  momentum?: number;
  /** Fused LeakyReLU slope applied after the norm. Default: none. */
  negativeSlope?: number;
}

/** Every valid {@link NormKind}. */
export const NORM_KINDS: readonly NormKind[] = ['batch', 'group', 'instance'];

/** Create the norm layer named by `settings.kind` (MONAI-style layer factory by name). */
export function createNormLayer(settings: NormSettings, name: string): tfl.layers.Layer {
  const epsilon = settings.epsilon ?? 1e-5;
  switch (settings.kind) {
    case 'batch':
      return new BatchNormalization5D({ name, epsilon, momentum: settings.momentum ?? 0.1, negativeSlope: settings.negativeSlope });
    case 'group':
      return new GroupNormalization({ name, epsilon, groups: settings.groups ?? 32, negativeSlope: settings.negativeSlope });
    case 'instance':
      return new InstanceNormalization({ name, epsilon, negativeSlope: settings.negativeSlope });
    default:
      throw new Error(`unknown norm "${String(settings.kind)}"; expected one of ${NORM_KINDS.join(', ')}`);
  }
}
