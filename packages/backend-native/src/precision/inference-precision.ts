import { loadAddon } from '../addon/load-addon.js';

/** Arithmetic of the `native` inference convolution (`VoxsegConv3DInference`). */
export type InferencePrecision = 'fp32' | 'bf16';

/** The accepted values of {@link InferencePrecision}, default first. */
export const INFERENCE_PRECISIONS: readonly InferencePrecision[] = ['fp32', 'bf16'];

/** What this CPU's oneDNN can do, as {@link nativeCapabilities} reports it. */
export interface NativeCapabilities {
  /** oneDNN's effective ISA (`avx2`, `avx512_core_bf16`, `avx512_core_amx`, ...); `none` without the addon. */
  isa: string;
  /** Whether oneDNN creates a non-reference bf16 inference convolution on this CPU. */
  bf16: boolean;
  /** oneDNN's implementation of the probed bf16 convolution (empty when none). */
  bf16Impl: string;
  /** Why not, when `bf16` is false (empty otherwise). */
  reason: string;
}

let capabilities: NativeCapabilities | undefined;

/**
 * Probe the addon once: oneDNN's effective ISA, and whether a bf16 inference convolution can
 * be created (the kernel's own primitive at a U-Net layer's shape; oneDNN 2.6 has jit bf16
 * convolutions from avx512_core, native with AVX512-BF16 and AMX; on AVX2 creation fails).
 */
export function nativeCapabilities(): NativeCapabilities {
  if (capabilities) return capabilities;
  const l = loadAddon();
  if (!l.ok) {
    capabilities = { isa: 'none', bf16: false, bf16Impl: '', reason: `the native addon is not loaded (${l.reason})` };
  } else {
    const p = l.addon.bf16Probe();
    capabilities = { isa: p.isa, bf16: p.bf16, bf16Impl: p.impl, reason: p.reason };
  }
  return capabilities;
}

/**
 * The one-line refusal for `--precision bf16` on a CPU without bf16 convolutions, naming the
 * ISA oneDNN found and what is needed.
 */
export function bf16Refusal(caps: NativeCapabilities, flag = '--precision bf16'): string {
  return `${flag}: this CPU has no bf16 convolutions (oneDNN ISA ${caps.isa}; needs AVX512-BF16 or AMX); use --precision fp32`;
}

/**
 * Parse a precision given by a person; throws one line naming `what` (`--precision`, a config
 * key) and the accepted values.
 */
export function parseInferencePrecision(value: unknown, what = '--precision'): InferencePrecision {
  if (typeof value === 'string' && (INFERENCE_PRECISIONS as readonly string[]).includes(value)) return value as InferencePrecision;
  throw new Error(`${what}: expected ${INFERENCE_PRECISIONS.join(' | ')}, got ${JSON.stringify(value)}`);
}

let current: InferencePrecision = 'fp32';

/**
 * Set the arithmetic of every later `native` inference convolution (process-wide, like the
 * backend itself). `bf16` throws {@link bf16Refusal}'s line where {@link nativeCapabilities}
 * says the CPU cannot run it: never a silent fallback to fp32, and never an emulation.
 */
export function setInferencePrecision(precision: InferencePrecision): void {
  const p = parseInferencePrecision(precision, 'setInferencePrecision');
  if (p === 'bf16') {
    const caps = nativeCapabilities();
    if (!caps.bf16) throw new Error(bf16Refusal(caps));
  }
  current = p;
}

/** The precision {@link setInferencePrecision} last set; `fp32` by default. */
export function inferencePrecision(): InferencePrecision {
  return current;
}
