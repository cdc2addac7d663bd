import { serialization } from '@tensorflow/tfjs-core';
import { GroupNormalization, type GroupNormalizationArgs } from './group-normalization.js';

/** Options of {@link InstanceNormalization}: those of GroupNormalization without `groups`. */
export type InstanceNormalizationArgs = Omit<GroupNormalizationArgs, 'groups'>;

/**
 * Instance normalisation: every channel of every sample normalised over its spatial positions
 * (biased variance, eps `1e-5`), then an optional per-channel affine. It is group
 * normalisation with one channel per group, which is how it is implemented. Matches
 * PyTorch's `InstanceNorm3d(affine=True)`, the norm of nnU-Net's default 3-D configuration;
 * note that the affine is on by default here, unlike PyTorch's own default.
 */
export class InstanceNormalization extends GroupNormalization {
  /** @nocollapse */
  static override className = 'InstanceNormalization';

  constructor(args: InstanceNormalizationArgs = {}) {
    // `groups` is ignored: one group per channel, whatever the width.
    super({ ...args, groups: 1 });
  }

  protected override groupsFor(channels: number): number {
    return channels;
  }

  override getConfig(): serialization.ConfigDict {
    const { groups: _ignored, ...config } = super.getConfig();
    return config;
  }
}
serialization.registerClass(InstanceNormalization);
