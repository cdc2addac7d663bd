import * as tfl from '@tensorflow/tfjs-layers';
import { type BlockContext, type ExperimentContext, type NetworkBuilder, Rng } from '@voxseg/core';
// Side effect: tfjs-core has no gradient for conv3dTranspose; training this net needs one.
import '../gradients/conv3d-transpose-grad.js';
import { Conv3DBias } from '../layers/conv3d-bias.js';
import { createNormLayer } from '../layers/norm-layer.js';
import { updateNetworkMetadata } from '../io/network-metadata.js';
import { initializeHe } from './he-init.js';
import { type ResolvedUnet, resolveUnetOptions, type UnetOptions } from './unet-options.js';

/** Name of the decoder extension slot (see {@link UnetOptions.decoderBlock}). */
export const DECODER_AFTER_UPSAMPLE_SLOT = 'decoder.afterUpsample';

type Sym = tfl.SymbolicTensor;

/** What the graph-building helpers share: the resolved options and the layers to He-init. */
interface Graph {
  readonly cfg: ResolvedUnet;
  readonly convs: tfl.layers.Layer[];
}

/**
 * conv 3x3x3 ('same', bias) -> norm -> LeakyReLU, as nnU-Net's ConvDropoutNormNonlin. Two
 * layers: the conv adds its bias in the same op ({@link Conv3DBias}) and the norm layer
 * applies the LeakyReLU itself, so training keeps two activations per conv instead of four.
 */
function convNormAct(g: Graph, x: Sym, filters: number, strides: number, name: string): Sym {
  const conv = new Conv3DBias({ name: `${name}_conv`, filters, kernelSize: 3, strides, padding: 'same', useBias: true });
  g.convs.push(conv);
  const norm = createNormLayer(
    { kind: g.cfg.norm, groups: g.cfg.groups, epsilon: g.cfg.epsilon, momentum: g.cfg.momentum, negativeSlope: g.cfg.negativeSlope },
    `${name}_norm`,
  );
  return norm.apply(conv.apply(x)) as Sym;
}

/** The resolution of `stage` for the patch. */
function resolutionAt(cfg: ResolvedUnet, stage: number): [number, number, number] {
  return cfg.patch.map((e) => e / 2 ** stage) as [number, number, number];
}

/**
 * Build nnU-Net's 3-D U-Net as a tfjs-layers functional model (see {@link UnetOptions}).
 *
 * Encoder stage `s` (0 = full resolution): `convsPerStage` x (conv 3x3x3 -> norm ->
 * LeakyReLU, the activation fused into the norm layer); the first conv of stages 1.. has
 * stride 2. Decoder stage `s` (from the second lowest resolution up): transposed conv 2x2x2 stride 2 without bias to the skip's width ->
 * the `decoder.afterUpsample` block (identity unless `decoderBlock` names one) -> concat
 * `[upsampled, skip]` (nnU-Net's order) -> convs (the last one to `decoderOutWidths[s]`)
 * -> a 1x1x1 head without bias. Outputs are logits, highest resolution first; one per
 * decoder stage with deep supervision, else only the full-resolution one.
 *
 * Padding note: tfjs's 'same' pads a stride-2 conv of an even edge (0, 1) where PyTorch pads
 * (1, 1), so each downsampling samples half a voxel further than PyTorch; shapes and counts
 * are identical.
 *
 * @param ctx the experiment, used to resolve `decoderBlock`; optional when no block is named.
 */
export function buildUnet(options: UnetOptions, ctx?: ExperimentContext): tfl.LayersModel {
  const cfg = resolveUnetOptions(options);
  const g: Graph = { cfg, convs: [] };
  const { stages, widths, convsPerStage } = cfg;

  const input = tfl.input({ name: 'image', shape: [...cfg.patch, cfg.inChannels] });
  const skips: Sym[] = [];
  let x: Sym = input;
  for (let s = 0; s < stages; s++) {
    for (let i = 0; i < convsPerStage; i++) {
      x = convNormAct(g, x, widths[s]!, s > 0 && i === 0 ? 2 : 1, `enc${s}_${i}`);
    }
    skips.push(x);
  }

  const decoderBlock = options.decoderBlock;
  if (decoderBlock !== undefined && !ctx) {
    throw new Error(`unet: decoderBlock "${decoderBlock}" needs the experiment context to be resolved`);
  }
  const blockFactory = decoderBlock !== undefined ? ctx!.get('block', decoderBlock) : undefined;

  const heads: Sym[] = [];
  for (let s = stages - 2; s >= 0; s--) {
    const skip = skips[s]!;
    const up = tfl.layers.conv3dTranspose({
      name: `dec${s}_up`,
      filters: widths[s]!,
      kernelSize: 2,
      strides: 2,
      padding: 'valid',
      useBias: false,
      kernelInitializer: 'zeros',
    });
    g.convs.push(up);
    x = up.apply(x) as Sym;
    if (blockFactory) {
      const blockCtx: BlockContext = {
        channels: widths[s]!,
        stage: s,
        stages,
        resolution: resolutionAt(cfg, s),
        slot: DECODER_AFTER_UPSAMPLE_SLOT,
        namePrefix: `dec${s}_slot`,
      };
      const block = blockFactory.create({ ...blockFactory.defaults, ...options.decoderBlockOptions }, blockCtx);
      if (block) x = block.apply(x);
    }
    x = tfl.layers.concatenate({ name: `dec${s}_concat`, axis: -1 }).apply([x, skip]) as Sym;
    for (let i = 0; i < convsPerStage; i++) {
      const filters = i === convsPerStage - 1 ? cfg.decoderOutWidths[s]! : widths[s]!;
      x = convNormAct(g, x, filters, 1, `dec${s}_${i}`);
    }
    if (cfg.deepSupervision || s === 0) {
      const head = tfl.layers.conv3d({
        name: `head${s}`,
        filters: cfg.outChannels,
        kernelSize: 1,
        useBias: false,
        kernelInitializer: 'zeros',
      });
      g.convs.push(head);
      heads.unshift(head.apply(x) as Sym);
    }
  }

  const model = tfl.model({ name: options.name ?? 'unet', inputs: input, outputs: heads.length === 1 ? heads[0]! : heads });
  if (options.initialize ?? true) {
    initializeHe(g.convs, options.rng ?? new Rng(options.seed ?? 0), cfg.negativeSlope);
  }
  updateNetworkMetadata(model, { network: 'unet', options: jsonOptions(options) });
  return model;
}

/** The options as plain JSON (the rng is dropped: it is not configuration). */
function jsonOptions(options: UnetOptions): Record<string, unknown> {
  const { rng: _rng, ...rest } = options;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/**
 * The decoder stage of a layer of {@link buildUnet}'s model, for gradient checkpointing: the
 * layers named `dec<s>_...` (transposed conv, the decoder block's layers, which are named
 * with the `dec<s>_slot` prefix, concat, convs and norms) form stage `dec<s>`; encoder layers and
 * the 1x1x1 heads (`head<s>`) are kept as usual. Each stage then keeps only its output for the
 * backward pass; its inputs (the stage below's output and the skip) are kept anyway.
 */
export function unetDecoderStageOf(layerName: string): string | undefined {
  return /^(dec\d+)_/.exec(layerName)?.[1];
}

/**
 * The encoder stage of a layer of {@link buildUnet}'s model, for gradient checkpointing: the
 * layers named `enc<s>_...` (the stage's convs and norms) form stage `enc<s>`; the rest is
 * kept as usual. Each stage then keeps only its input and its output (the skip, which the
 * decoder reads anyway): at full resolution that frees three of the stage's four
 * full-resolution activations, for one more forward pass of the stage per step.
 */
export function unetEncoderStageOf(layerName: string): string | undefined {
  return /^(enc\d+)_/.exec(layerName)?.[1];
}

/** The `unet` network builder registered by `unetPlugin()`. */
export const unetBuilder: NetworkBuilder<UnetOptions> = {
  name: 'unet',
  description: "nnU-Net's 3-D U-Net (Generic_UNet): strided-conv encoder, transposed-conv decoder, deep supervision",
  build: (options, ctx) => buildUnet(options, ctx),
  decoderStageOf: unetDecoderStageOf,
  encoderStageOf: unetEncoderStageOf,
};
