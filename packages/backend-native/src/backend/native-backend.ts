import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../addon/load-addon.js';
import { Float32Pool } from './float32-pool.js';
import {
  conv3dBackpropFilterBiasConfig,
  conv3dBackpropFilterConfig,
  conv3dBackpropInputConfig,
  conv3dBiasConfig,
  conv3dBiasGradConfig,
  conv3dConfig,
  CONV3D_BIAS,
} from '../kernels/conv3d.js';
import { conv3dInferenceConfig } from '../kernels/conv3d-inference.js';
import { leakyReluGradConfig, LEAKY_RELU_GRAD } from '../kernels/elementwise.js';
import { nativeKernelConfigs } from '../kernels/index.js';
import { normGradConfig, NORM_FORWARD } from '../ops/norm-kernels.js';

/** The tfjs backend name this package registers. */
export const NATIVE_BACKEND = 'native';

/**
 * Priority given to `tf.registerBackend`: above `cpu` (1) and `wasm` (2), so once
 * registered, `native` is tfjs's default; `tensorflow` (tfjs-node) registers at 3 and a
 * later explicit `tf.setBackend` always wins.
 */
export const NATIVE_BACKEND_PRIORITY = 3;

/**
 * The `native` backend: the pure-JS cpu backend (tensors stay in JS memory, every kernel
 * not overridden runs as on `cpu`) whose hot kernels call oneDNN and OpenMP code on the
 * tensors' own arrays.
 */
export class NativeBackend extends MathBackendCPU {
  /** Reuses the native kernels' large output arrays (see {@link Float32Pool}). */
  readonly float32Pool = new Float32Pool();

  /** An output array for a native kernel (contents undefined: the kernel writes it all). */
  allocFloat32(n: number): Float32Array {
    return this.float32Pool.alloc(n);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    this.float32Pool.onWrite(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    this.float32Pool.onWrite(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const v = super.readSync(dataId);
    this.float32Pool.onRead(v);
    return v;
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    const v = await super.read(dataId);
    this.float32Pool.onRead(v);
    return v;
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const deleted = super.disposeData(dataId, force);
    if (deleted && values !== undefined && !this.data.has(dataId)) this.float32Pool.onDispose(values);
    return deleted;
  }

  override dispose(): void {
    this.float32Pool.clear();
    super.dispose();
  }
}

/** What {@link registerNativeBackend} and {@link nativeBackendStatus} report. */
export interface NativeBackendStatus {
  /** True when the addon loaded and the `native` backend is registered with tfjs. */
  available: boolean;
  /** Why it is unavailable, and how to enable it. */
  reason?: string;
  /** oneDNN version and OpenMP threads, when available. */
  onednn?: string;
  threads?: number;
  /** The kernels the backend runs natively (all others are the cpu backend's). */
  kernels?: string[];
}

/**
 * Register the `native` backend with tfjs (idempotent: the tfjs registry is the state).
 * Does not switch to it: call `tf.setBackend('native')` (core's backend selection does).
 * Never throws; when the addon is missing, returns `available: false` with the reason.
 */
export function registerNativeBackend(): NativeBackendStatus {
  const l = loadAddon();
  if (!l.ok) return { available: false, reason: l.reason };
  if (!tf.findBackendFactory(NATIVE_BACKEND)) {
    tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), NATIVE_BACKEND_PRIORITY);
    tf.copyRegisteredKernels('cpu', NATIVE_BACKEND);
    for (const k of allConfigs()) {
      if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
      tf.registerKernel(k);
    }
  }
  // Gradients are registered per kernel name for all backends; ours are unique names.
  if (!tf.getGradient(NORM_FORWARD)) tf.registerGradient(normGradConfig);
  if (!tf.getGradient(CONV3D_BIAS)) tf.registerGradient(conv3dBiasGradConfig);
  // Replace tfjs's LeakyRelu gradient once (it delegates to the old one off this backend).
  const leaky = tf.getGradient(tf.LeakyRelu) as (tf.GradConfig & { [LEAKY_RELU_GRAD]?: true }) | undefined;
  if (leaky && !leaky[LEAKY_RELU_GRAD]) tf.registerGradient({ ...leakyReluGradConfig(leaky), [LEAKY_RELU_GRAD]: true } as tf.GradConfig);
  return nativeBackendStatus();
}

/** Status without registering anything. */
export function nativeBackendStatus(): NativeBackendStatus {
  const l = loadAddon();
  if (!l.ok) return { available: false, reason: l.reason };
  const info = l.addon.info();
  const registered = tf.findBackendFactory(NATIVE_BACKEND) != null;
  return {
    available: registered,
    ...(registered ? {} : { reason: 'the addon loaded but registerNativeBackend() has not been called' }),
    onednn: info.onednn,
    threads: info.threads,
    kernels: allConfigs().map((k) => k.kernelName),
  };
}

function allConfigs(): tf.KernelConfig[] {
  return [conv3dConfig, conv3dBackpropInputConfig, conv3dBackpropFilterConfig, conv3dBiasConfig, conv3dBackpropFilterBiasConfig, conv3dInferenceConfig, ...nativeKernelConfigs];
}
