import * as tf from '@tensorflow/tfjs-core';
import { type AdapterReport, describeAdapter, formatAdapter } from './adapter-report.js';
import { type ErrorGuard, installErrorGuard, WebGPUError } from './error-guard.js';
import { type GpuProviderOptions, getGpu } from './gpu-provider.js';
import { registerVoxsegKernels } from '../kernels/register-kernels.js';
import { installBindingRules } from '../kernels/binding-split.js';

/** The tfjs backend name. */
export const WEBGPU_BACKEND = 'webgpu';
/**
 * Registration priority: below `cpu` (1), so merely registering never makes WebGPU tfjs's
 * default; voxseg always selects a backend by name.
 */
export const WEBGPU_BACKEND_PRIORITY = 0;

/** Options of {@link registerWebGPUBackend}. */
export interface WebGPUBackendOptions extends GpuProviderOptions {
  /** Adapter preference (default `high-performance`: the discrete GPU on a laptop). */
  powerPreference?: GPUPowerPreference;
  /** One error scope per kernel, so errors name their kernel (default true); see error-guard. */
  errorScopes?: boolean;
  /**
   * `voxseg` (default): this package's WGSL kernels replace tfjs-backend-webgpu's where they
   * are faster or correct where it is not; `tfjs`: only the correctness fixes.
   */
  kernels?: 'voxseg' | 'tfjs';
}

/** What {@link registerWebGPUBackend} reports. */
export interface WebGPUBackendStatus {
  /** True when an adapter was found and the `webgpu` backend is registered. */
  available: boolean;
  /** Why it is unavailable, and how to enable it. */
  reason?: string;
  /** The adapter (vendor, architecture, description, limits) when one was found. */
  adapter?: AdapterReport;
  /** Where WebGPU came from: `navigator.gpu`, `webgpu (Dawn)` or a dawn.node path. */
  source?: string;
}

/** How to get an adapter where none was found. */
export const ENABLE_HINT =
  'WebGPU needs a Vulkan driver in Node (a GPU driver; or, for testing on the CPU, Chromium\'s SwiftShader: ' +
  'LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json) or a browser with WebGPU';

interface Registration {
  status: WebGPUBackendStatus;
}
let registration: Promise<Registration> | undefined;
const guards = new WeakMap<object, ErrorGuard>();

/**
 * Find a WebGPU adapter and register the `webgpu` TensorFlow.js backend on it (Dawn in Node,
 * `navigator.gpu` in browsers). Never throws: an absent adapter is reported with a reason.
 * The device is created when the backend is first activated (`tf.setBackend('webgpu')`).
 * The first call's options win; later calls return the same status.
 *
 * tfjs-backend-webgpu's own registration is replaced: in 4.22 it calls
 * `adapter.requestAdapterInfo()` (gone from current WebGPU) and asks for a malformed
 * feature list; here the backend is built from `adapter.info`, every WebGPU error becomes an
 * exception ({@link WebGPUError}), and voxseg's kernels are registered over its own.
 */
export function registerWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackendStatus> {
  registration ??= register(options);
  return registration.then((r) => r.status);
}

async function register(options: WebGPUBackendOptions): Promise<Registration> {
  let provider;
  try {
    provider = await getGpu(options);
  } catch (err) {
    return { status: { available: false, reason: `${(err as Error).message}; ${ENABLE_HINT}` } };
  }
  const adapter = await provider.gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    return { status: { available: false, source: provider.source, reason: `${provider.source} found no WebGPU adapter; ${ENABLE_HINT}` } };
  }
  const report = describeAdapter(adapter as unknown as Parameters<typeof describeAdapter>[0]);
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // tfjs-backend-webgpu registers its own factory on import when navigator.gpu exists.
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  const l = adapter.limits;
  tf.registerBackend(
    WEBGPU_BACKEND,
    async () => {
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
          maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        },
      });
      const backend = new WebGPUBackend(device, adapter.info);
      guards.set(backend, installErrorGuard(backend as never, { errorScopes: options.errorScopes ?? true }));
      explainReadSync(backend);
      // After the guard: a binding above the limit is refused before the program is recorded.
      installBindingRules(backend as never);
      return backend;
    },
    WEBGPU_BACKEND_PRIORITY,
  );
  registerVoxsegKernels(options.kernels ?? 'voxseg');
  return { status: { available: true, adapter: report, source: provider.source } };
}

/**
 * `dataSync()` on tfjs-backend-webgpu reads through an `OffscreenCanvas`, which Node lacks
 * ("OffscreenCanvas is not defined"): say what to do instead.
 */
function explainReadSync(backend: { readSync(dataId: object): unknown }): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return;
  backend.readSync = () => {
    throw new WebGPUError('dataSync()/arraySync() cannot read a webgpu tensor in Node (no OffscreenCanvas): use `await tensor.data()`');
  };
}

/**
 * Wait for every kernel run so far on the active `webgpu` backend and throw the first WebGPU
 * error they reported (reads do this by themselves; this is for code that never reads).
 */
export async function checkWebGPUErrors(): Promise<void> {
  const guard = guards.get(tf.backend());
  if (guard) await guard.check();
}

/** One line describing a status, for logs. */
export function formatWebGPUStatus(s: WebGPUBackendStatus): string {
  return s.available && s.adapter ? `WebGPU on ${formatAdapter(s.adapter)} via ${s.source}` : `WebGPU unavailable: ${s.reason}`;
}
