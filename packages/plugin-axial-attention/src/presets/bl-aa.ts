import type { NetworkPreset } from '@voxseg/core';
import { UNET_PRESETS } from '@voxseg/plugin-unet';

function blOptions(): Readonly<Record<string, unknown>> {
  const bl = UNET_PRESETS.find((p) => p.name === 'BL');
  if (!bl) throw new Error('@voxseg/plugin-axial-attention: @voxseg/plugin-unet exports no "BL" preset to extend');
  return bl.options;
}

/**
 * `BL+AA` as data: the U-Net plugin's own `BL` options (read from its exported
 * `UNET_PRESETS`, so a change there carries over) plus the `axial-attention` block in the
 * decoder's `decoder.afterUpsample` slot. The block's options default to the reference's
 * heads rule; override them with `decoderBlockOptions` in the caller's network options
 * (e.g. `{ decoderBlockOptions: { seed: 7 } }`).
 *
 * A frozen constant (plain data, no state), so registering it twice is a no-op.
 */
export const BL_AA_PRESET: NetworkPreset = Object.freeze({
  name: 'BL+AA',
  description: 'baseline with the axial-attention decoder (4 lower-resolution decoder stages)',
  network: 'unet',
  options: Object.freeze({ ...blOptions(), decoderBlock: 'axial-attention' }),
});
