import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { addon } from '../addon/load-addon.js';
import { bf16EmulationForAgreementCheck, roundToBf16 } from '../precision/bf16-emulation.js';
import { inferencePrecision } from '../precision/inference-precision.js';
import { convParams } from './conv3d.js';
import { alloc, f32, fmt, output, sizeOf } from './tensor-data.js';

/**
 * Kernel: `leakyRelu(conv3d(x, filter) + bias, negativeSlope)` in one oneDNN inference
 * primitive. Inputs `{ x, filter, bias? }` (channels-last x, tfjs filter layout
 * `[kd, kh, kw, in, out]`, bias `[out]`); attrs `{ strides, pad, dilations, negativeSlope? }`
 * (no `negativeSlope`: no activation). Inference only: no gradient is registered (training
 * needs the pre-activation output, which this kernel never writes).
 *
 * Optional input `x2` (same batch and spatial shape as x): the convolution's input is then the
 * channel concatenation `concat([x, x2], -1)` (a U-Net decoder's upsampled tensor and its skip),
 * and the filter's input channels are those of x and x2 together. On the blocked layout each
 * part is reordered straight into its channel range of the convolution's input buffer, so the
 * concatenated tensor is never materialised; the result is bit-identical to concat then conv.
 */
export const CONV3D_INFERENCE = 'VoxsegConv3DInference';

/** Attributes of {@link CONV3D_INFERENCE}. */
export interface Conv3DInferenceAttrs {
  strides: [number, number, number] | number;
  pad: 'same' | 'valid';
  dilations?: [number, number, number] | number;
  /** LeakyReLU slope applied to the result in the same pass; absent: none. */
  negativeSlope?: number;
}

/**
 * Input channels from which the convolution runs on oneDNN's blocked activation layout
 * (the input reordered into it, the output reordered back to channels-last, in the same
 * call). Measured on this project's AVX2 machine with `conv3d-infer` interleaved runs
 * (packages/backend-native README): blocked was 1.3-2.3x faster for 32..256 input channels
 * including both reorders, and slower for the 4-channel image input.
 */
const BLOCKED_FROM_CHANNELS = 16;

/**
 * Channel granularity at which `x2`'s channel range may start in the blocked buffer: oneDNN's
 * channel block (8 on AVX2, 16 on AVX-512), so a part never splits a block. Other widths
 * concatenate into one channels-last buffer first (same result).
 */
const CONCAT_CHANNEL_ALIGN = 16;

/** Layout code for the addon: 0 channels-last throughout, 1 blocked (reorders in and out). */
function layoutFor(inChannels: number): number {
  const forced = process.env['VOXSEG_CONV_INFER_LAYOUT'];
  if (forced === 'ndhwc') return 0;
  if (forced === 'blocked') return 1;
  return inChannels >= BLOCKED_FROM_CHANNELS ? 1 : 0;
}

/**
 * Precision code for the addon: 1 (bf16 source and weights, f32 accumulation and output) when
 * `setInferencePrecision('bf16')` is in force and the layer runs blocked; the 4-channel image
 * input stays fp32 (channels-last, where oneDNN 2.6 has no bf16 kernel to count on, and a
 * negligible share of the FLOPs).
 */
function precisionFor(layout: number): number {
  return layout === 1 && inferencePrecision() === 'bf16' ? 1 : 0;
}

/** {@link CONV3D_INFERENCE} on `native`. */
export const conv3dInferenceConfig: tf.KernelConfig = {
  kernelName: CONV3D_INFERENCE,
  backendName: 'native',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, x2, filter, bias } = inputs as { x: tf.TensorInfo; x2?: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo };
    const a = attrs as unknown as Conv3DInferenceAttrs;
    const b = backend as MathBackendCPU;
    if (x2 && (x2.shape.length !== 5 || x.shape.length !== 5 || x2.shape.slice(0, 4).some((d, i) => d !== x.shape[i]))) {
      throw new Error(`${CONV3D_INFERENCE}: x2 must be [N,D,H,W,C2] with x's N, D, H, W, got x ${fmt(x.shape)} x2 ${fmt(x2.shape)}`);
    }
    const c1 = x.shape[4] ?? 0;
    const c2 = x2 ? x2.shape[4]! : 0;
    const inShape = [...x.shape.slice(0, 4), c1 + c2] as [number, number, number, number, number];
    if (x.shape.length !== 5 || filter.shape.length !== 5 || c1 + c2 !== filter.shape[3]) {
      const xs = x2 ? `x ${fmt(x.shape)} + x2 ${fmt(x2.shape)}` : `x ${fmt(x.shape)}`;
      throw new Error(`${CONV3D_INFERENCE}: need x [N,D,H,W,C] and filter [kd,kh,kw,C,out] with the same C, got ${xs} filter ${fmt(filter.shape)}`);
    }
    const info = tf.backend_util.computeConv3DInfo(
      inShape,
      filter.shape as [number, number, number, number, number],
      a.strides,
      a.dilations ?? 1,
      a.pad,
    );
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) {
      throw new Error(`${CONV3D_INFERENCE}: bias has shape ${fmt(bias.shape)}, expected [${info.outChannels}]`);
    }
    const slope = typeof a.negativeSlope === 'number' && Number.isFinite(a.negativeSlope) ? a.negativeSlope : Number.NaN;
    const n = sizeOf(info.outShape);
    const run = n > 0 && sizeOf(inShape) > 0 && sizeOf(filter.shape) > 0;
    const y = alloc(b, n, !run);
    if (run) {
      const layout = layoutFor(info.inChannels);
      const params = convParams(info);
      const precision = precisionFor(layout);
      // The agreement check's emulation (bf16-emulation.ts): the same layers as real bf16, with
      // inputs and weights rounded to bf16 and the fp32 primitive; never on with --precision bf16.
      const emulate = precision === 0 && layout === 1 && bf16EmulationForAgreementCheck();
      const data = (t: tf.TensorInfo) => (emulate ? roundToBf16(f32(b, t)) : f32(b, t));
      const w = data(filter);
      const bv = bias ? f32(b, bias) : null;
      if (!x2 || c2 === 0) {
        addon().conv3dInference(data(x), w, bv, y, params, slope, layout, null, undefined, precision);
      } else if (c1 === 0) {
        addon().conv3dInference(data(x2), w, bv, y, params, slope, layout, null, undefined, precision);
      } else if (layout === 1 && c1 % CONCAT_CHANNEL_ALIGN === 0 && c2 % CONCAT_CHANNEL_ALIGN === 0) {
        addon().conv3dInference(data(x), w, bv, y, params, slope, layout, data(x2), c1, precision);
      } else {
        // Widths off the channel block (or channels-last forced): concatenate, then convolve.
        const rows = sizeOf(inShape.slice(0, 4));
        const cat = new Float32Array(rows * (c1 + c2));
        addon().copyRows(data(x), cat, [rows], [c1], 0, c1, 0, c1 + c2);
        addon().copyRows(data(x2), cat, [rows], [c2], 0, c2, c1, c1 + c2);
        addon().conv3dInference(cat, w, bv, y, params, slope, layout, null, undefined, precision);
      }
    } else if (n > 0) {
      // No products to sum: every output is the (activated) bias, or zero.
      const bv = bias ? f32(b, bias) : undefined;
      for (let i = 0; i < n; i++) {
        const v = bv ? bv[i % bv.length]! : 0;
        y[i] = Number.isNaN(slope) || v >= 0 ? v : v * slope;
      }
    }
    return output(b, info.outShape, 'float32', y);
  },
};
