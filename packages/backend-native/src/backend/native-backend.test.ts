import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { status } from '../__tests__/compare.js';
import { NATIVE_BACKEND, nativeBackendStatus, registerNativeBackend } from './native-backend.js';

describe.skipIf(!status.available)('registerNativeBackend', () => {
  it('is idempotent and reports oneDNN, threads and the native kernels', () => {
    const again = registerNativeBackend();
    expect(again).toEqual(status);
    expect(nativeBackendStatus()).toEqual(status);
    expect(status.onednn).toMatch(/^\d+\.\d+/);
    expect(status.threads).toBeGreaterThanOrEqual(1);
    expect(status.kernels).toEqual(expect.arrayContaining(['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2', 'BatchMatMul', '_FusedMatMul', 'LeakyRelu', 'VoxsegNormForward']));
  });

  it('inherits every cpu kernel it does not override', () => {
    for (const name of [tf.Exp, tf.Sigmoid, tf.Transpose, tf.PadV2, tf.Tile]) {
      expect(tf.getKernel(name, NATIVE_BACKEND), name).toBeDefined();
    }
    tf.setBackend(NATIVE_BACKEND);
    const y = tf.transpose(tf.tensor2d([[1, 2, 3]]));
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });
});
