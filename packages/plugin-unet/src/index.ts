/**
 * @voxseg/plugin-unet: nnU-Net's 3-D U-Net for voxseg (BL, L and GN variants as presets of
 * one builder), 5-D normalisation layers, a decoder extension slot, and model save/load.
 * @packageDocumentation
 */
export { unetPlugin, type UnetPluginOptions } from './plugin.js';
export { buildUnet, unetBuilder, unetDecoderStageOf, unetEncoderStageOf, DECODER_AFTER_UPSAMPLE_SLOT } from './architectures/unet.js';
export { type UnetOptions, type ResolvedUnet, resolveUnetOptions, stagesForPatch } from './architectures/unet-options.js';
export { UNET_PRESETS } from './architectures/presets.js';
export { buildPreset } from './architectures/build-preset.js';
export { initializeHe, heStd, torchFanIn } from './architectures/he-init.js';
export { identityBlock } from './blocks/identity-block.js';
export { BatchNormalization5D, type BatchNormalization5DArgs } from './layers/batch-normalization-5d.js';
export { GroupNormalization, type GroupNormalizationArgs } from './layers/group-normalization.js';
export { InstanceNormalization, type InstanceNormalizationArgs } from './layers/instance-normalization.js';
export { createNormLayer, NORM_KINDS, type NormKind, type NormSettings } from './layers/norm-layer.js';
export { registerConv3dTransposeGradient } from './gradients/conv3d-transpose-grad.js';
export { countTrainableParams } from './summary/count-params.js';
export {
  NETWORK_METADATA_KEY,
  type NetworkMetadata,
  readNetworkMetadata,
  updateNetworkMetadata,
} from './io/network-metadata.js';
export { saveNetwork, loadNetwork, type LoadedNetwork } from './io/network-io.js';
export { summarizeModel, formatSummary, type ModelSummary, type LayerRow } from './summary/model-summary.js';
export { Conv3DBias, type Conv3DBiasArgs } from './layers/conv3d-bias.js';
export { prepareForInference, type PrepareForInferenceOptions } from './inference/prepare-for-inference.js';
export { fusedNorm, NATIVE_NORM_KERNEL, type FusedNormOptions, type FusedNormResult } from './layers/fused-norm.js';
export { registerUnetLayers } from './browser.js';
