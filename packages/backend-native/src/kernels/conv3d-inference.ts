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
    const { x, filter, bias } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo };
    const a = attrs as unknown as Conv3DInferenceAttrs;
    const b = backend as MathBackendCPU;
    if (x.shape.length !== 5 || filter.shape.length !== 5 || x.shape[4] !== filter.shape[3]) {
      throw new Error(`${CONV3D_INFERENCE}: need x [N,D,H,W,C] and filter [kd,kh,kw,C,out] with the same C, got x ${fmt(x.shape)} filter ${fmt(filter.shape)}`);
    }
    const info = tf.backend_util.computeConv3DInfo(
      x.shape as [number, number, number, number, number],
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
    const run = n > 0 && sizeOf(x.shape) > 0 && sizeOf(filter.shape) > 0;
    const y = alloc(b, n, !run);
    if (run) {
      const layout = layoutFor(info.inChannels);
      const precision = precisionFor(layout);
      let xv = f32(b, x), wv = f32(b, filter);
      // The agreement check's emulation (bf16-emulation.ts): the same layers as real bf16, with
      // input and weights rounded to bf16 and the fp32 primitive; never on with --precision bf16.
      if (precision === 0 && layout === 1 && bf16EmulationForAgreementCheck()) {
        xv = roundToBf16(xv);
        wv = roundToBf16(wv);
      }
      addon().conv3dInference(xv, wv, bias ? f32(b, bias) : null, y, convParams(info), slope, layout, precision);
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
