/**
 * What a WebGPU adapter says about itself, as plain data (printed by `voxseg` at start,
 * written into benchmark results, and used by `selectBackend('auto')` to refuse software
 * rasterisers).
 */
export interface AdapterReport {
  /** `GPUAdapterInfo.vendor`, e.g. `nvidia`, `google` (SwiftShader), `mesa`. */
  vendor: string;
  /** `GPUAdapterInfo.architecture`, e.g. `hopper`, `swiftshader`. */
  architecture: string;
  /** `GPUAdapterInfo.device`. */
  device: string;
  /** `GPUAdapterInfo.description`, e.g. `NVIDIA H200` or `SwiftShader driver 5.0.0`. */
  description: string;
  /** True when the adapter is a CPU implementation (see {@link isSoftwareAdapter}). */
  software: boolean;
  /** The limits that bound kernel shapes and tensor sizes. */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupSizeX: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
  };
  /** Optional features the adapter offers (`timestamp-query`, `shader-f16`, `subgroups`, ...). */
  features: string[];
}

/** The adapter fields {@link describeAdapter} reads (a subset of `GPUAdapter`). */
export interface AdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: Record<string, number> | GPUSupportedLimits;
  features: Iterable<string>;
}

/**
 * Names that identify a CPU implementation of Vulkan/WebGPU in `GPUAdapterInfo`: Google's
 * SwiftShader (shipped with Chromium), Mesa's lavapipe and llvmpipe, Microsoft's WARP.
 * Kernels run correctly there but slower than the `native` CPU backend.
 */
const SOFTWARE_NAMES = /swiftshader|lavapipe|llvmpipe|softpipe|\bwarp\b|microsoft basic render/i;

/**
 * True when the adapter is a software rasteriser rather than a GPU: the adapter calls itself a
 * fallback adapter, or its vendor, architecture, device or description names SwiftShader,
 * lavapipe, llvmpipe, softpipe or WARP.
 */
export function isSoftwareAdapter(info: Pick<AdapterReport, 'vendor' | 'architecture' | 'device' | 'description'>, fallback = false): boolean {
  if (fallback) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/** Read an adapter into an {@link AdapterReport}. */
export function describeAdapter(adapter: AdapterLike): AdapterReport {
  const info = adapter.info ?? {};
  const l = adapter.limits as unknown as Record<string, number>;
  const base = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  return {
    ...base,
    software: isSoftwareAdapter(base, adapter.isFallbackAdapter === true || info.isFallbackAdapter === true),
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize!,
      maxBufferSize: l.maxBufferSize!,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize!,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup!,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX!,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension!,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage!,
    },
    features: [...adapter.features].sort(),
  };
}

/** One line for logs: `google swiftshader (SwiftShader driver 5.0.0), software`. */
export function formatAdapter(a: AdapterReport): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const desc = a.description ? ` (${a.description})` : '';
  return `${name}${desc}${a.software ? ', software' : ''}`;
}
