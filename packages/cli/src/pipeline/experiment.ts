import { corePlugin, createExperiment, type Experiment } from '@voxseg/core';
import { axialAttentionPlugin } from '@voxseg/plugin-axial-attention';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { unetPlugin } from '@voxseg/plugin-unet';

/**
 * The experiment the CLI runs in: core's built-ins plus every plugin the `voxseg` package
 * ships (U-Net presets, axial attention, losses). Code users compose their own with
 * `createExperiment({ plugins: [...] })`.
 */
export function createCliExperiment(): Experiment {
  return createExperiment({ plugins: [corePlugin(), unetPlugin(), axialAttentionPlugin(), lossesPlugin()] });
}
