import type { NetworkPreset } from '@voxseg/core';

/**
 * The BraTS 2021 winners' network variants as data: options of the one `unet` builder
 * (docs/method.md "Network"). `BL+AA` is registered by `@voxseg/plugin-axial-attention`.
 */
const BL = { baseFilters: 32, maxFilters: 320, widthMultiplier: 1, decoderSecondConvRatio: 1, norm: 'batch' } as const;
/** L: encoder widths doubled, cap 512; the last conv of each decoder stage at half the skip width. */
const LARGE = { widthMultiplier: 2, maxFilters: 512, decoderSecondConvRatio: 0.5 } as const;
const GN = { norm: 'group', groups: 32 } as const;

/** The four presets `unetPlugin()` registers: BL, BL+L, BL+GN, BL+L+GN (docs/method.md counts at 128^3). */
export const UNET_PRESETS: readonly NetworkPreset[] = [
  { name: 'BL', description: 'nnU-Net baseline: 32..320 filters, BatchNorm', network: 'unet', options: { ...BL } },
  { name: 'BL+L', description: 'large encoder: 64..512 filters, BatchNorm', network: 'unet', options: { ...BL, ...LARGE } },
  { name: 'BL+GN', description: 'baseline with GroupNorm (32 groups)', network: 'unet', options: { ...BL, ...GN } },
  {
    name: 'BL+L+GN',
    description: 'large encoder with GroupNorm (32 groups)',
    network: 'unet',
    options: { ...BL, ...LARGE, ...GN },
  },
];
