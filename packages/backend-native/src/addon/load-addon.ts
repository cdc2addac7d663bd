import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The functions the compiled addon (`build/Release/voxseg_native.node`, sources in
 * `src/native/`) exports. Every function works in place on the Float32Arrays/Uint8Arrays
 * that back tfjs tensors (no copies); outputs are preallocated by the caller, so no native
 * allocation outlives a call apart from the cached oneDNN primitives and weight buffers.
 */
export interface NativeAddon {
  info(): { onednn: string; threads: number };
  setThreads(n: number): number;
  /**
   * The training convolutions. `layout` 0 (default): channels-last activations in place; 1:
   * oneDNN's blocked layout, the activations copied into scratch buffers and back, one sample
   * at a time. Each returns the layout it ran: 0 where layout 1 does not apply (oneDNN picked no
   * plain blocked layout for this geometry).
   */
  conv3dForward(x: Float32Array, filter: Float32Array, y: Float32Array, params: Int32Array, layout?: number): number;
  conv3dBackwardData(dy: Float32Array, filter: Float32Array, dx: Float32Array, params: Int32Array, layout?: number): number;
  conv3dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, params: Int32Array, layout?: number): number;
  conv3dForwardBias(x: Float32Array, filter: Float32Array, bias: Float32Array, y: Float32Array, params: Int32Array, layout?: number): number;
  conv3dBackwardFilterBias(x: Float32Array, dy: Float32Array, dw: Float32Array, dbias: Float32Array, params: Int32Array, layout?: number): number;
  /** oneDNN implementation per primitive created for this geometry (blocked ones: "none" where layout 1 does not apply). */
  conv3dImplInfo(params: Int32Array): Record<string, string>;
  /** Drop the cached training primitives and the blocked-layout scratch buffers (shared with the inference conv). */
  clearConvCache(): number;
  /**
   * Inference conv + bias + LeakyReLU (slope NaN: none); layout 0 channels-last, 1 blocked with reorders.
   * With `x2`: the input is the channel concatenation of x (first `c1` channels) and x2 (blocked layouts only).
   * precision 0 fp32 (default), 1 bf16 source and weights with f32 accumulation and output.
   */
  conv3dInference(x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, params: Int32Array, slope: number, layout: number, x2?: Float32Array | null, c1?: number, precision?: number): void;
  /** oneDNN's effective ISA and whether it creates a non-reference bf16 inference convolution. */
  bf16Probe(): { isa: string; bf16: boolean; impl: string; reason: string };
  /** oneDNN implementation per cached inference primitive. */
  conv3dInferenceImpls(): Record<string, string>;
  clearConvInferenceCache(): number;
  batchMatMul(a: Float32Array, b: Float32Array, c: Float32Array, params: Int32Array): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array | Uint8Array, dims: number[], stridesA: number[], stridesB: number[]): void;
  select(cond: Uint8Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  leakyRelu(x: Float32Array, alpha: number, y: Float32Array): void;
  unary(op: number, x: Float32Array, y: Float32Array): void;
  step(x: Float32Array, alpha: number, y: Float32Array): void;
  leakyReluGrad(dy: Float32Array, x: Float32Array, alpha: number, dx: Float32Array): void;
  reduce(x: Float32Array, outer: number, red: number, inner: number, out: Float32Array, mean: boolean): void;
  copyRows(src: Float32Array, dst: Float32Array, dims: number[], strides: number[], base: number, inner: number, dstOffset: number, dstRowStride: number): void;
  normForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, shape: number[], eps: number, slope?: number): void;
  normBackward(dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, shape: number[], eps: number, y?: Float32Array, slope?: number): void;
}

/** Whether the addon loaded, and if not, why and how to enable it. */
export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** How to enable the backend; appended to every "unavailable" reason. */
export const ENABLE_HINT = 'install oneDNN and rebuild: `apt-get install libdnnl-dev && npm rebuild @voxseg/backend-native`';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The addon binary's path and the install script's status file. */
export const addonPaths = {
  binary: join(packageRoot, 'build', 'Release', 'voxseg_native.node'),
  status: join(packageRoot, 'build', 'status.json'),
};

function installReason(): string | undefined {
  if (!existsSync(addonPaths.status)) return undefined;
  try {
    const s = JSON.parse(readFileSync(addonPaths.status, 'utf8')) as { ok?: boolean; reason?: string };
    return s.ok ? undefined : s.reason;
  } catch {
    return undefined;
  }
}

/**
 * Load the addon once per process. `VOXSEG_NATIVE_DISABLE=1` pretends it is missing (to
 * exercise the fallback). Never throws: failures come back as a reason for people.
 */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  if (process.env.VOXSEG_NATIVE_DISABLE) {
    cached = { ok: false, reason: 'disabled by VOXSEG_NATIVE_DISABLE' };
  } else if (!existsSync(addonPaths.binary)) {
    const why = installReason() ?? 'the addon was not built (the install script did not run or failed)';
    cached = { ok: false, reason: why.includes('npm rebuild') ? why : `${why}; ${ENABLE_HINT}` };
  } else {
    try {
      // libgomp reads its settings when it is loaded with the addon, so they must be in the
      // environment first. Passive waiting: idle OpenMP threads sleep instead of spinning.
      // On a shared or oversubscribed machine spinning threads steal the cores the working
      // ones need (a BL step at 32^3 went from 18.9 s to 2.5 s); on a quiet machine the cost
      // is a futex wake per parallel region. A value set by the user wins.
      process.env.OMP_WAIT_POLICY ??= 'passive';
      const addon = createRequire(import.meta.url)(addonPaths.binary) as NativeAddon;
      cached = { ok: true, addon, path: addonPaths.binary };
    } catch (err) {
      cached = { ok: false, reason: `loading ${addonPaths.binary} failed: ${(err as Error).message}; ${ENABLE_HINT}` };
    }
  }
  return cached;
}
// The loaded addon is process-wide by nature (a shared library), hence the one cache.
let cached: AddonLoad | undefined;

/** The addon, or an error naming the reason; for kernels, which only run once it loaded. */
export function addon(): NativeAddon {
  const l = loadAddon();
  if (!l.ok) throw new Error(`@voxseg/backend-native: ${l.reason}`);
  return l.addon;
}
