import {
  bf16Refusal,
  INFERENCE_PRECISIONS,
  type InferencePrecision,
  type NativeCapabilities,
  nativeCapabilities,
  setInferencePrecision,
} from '@voxseg/backend-native';
import { CliError } from '../commands/types.js';

/** `--precision`'s value, checked before anything loads: one line naming the flag otherwise. */
export function parsePrecisionFlag(value: string): InferencePrecision {
  if ((INFERENCE_PRECISIONS as readonly string[]).includes(value)) return value as InferencePrecision;
  throw new CliError(`--precision: expected ${INFERENCE_PRECISIONS.join(' | ')}, got "${value}"`);
}

/**
 * Put `--precision` into force once the backend is chosen. `fp32` is every backend's own
 * arithmetic (on `native` it resets the inference convolutions to fp32). `bf16` needs the `native` backend (oneDNN's bf16 convolutions)
 * on a CPU that has them; elsewhere it refuses in one line instead of running fp32 silently.
 * @param backend the active tfjs backend's name (`tf.getBackend()`)
 * @param caps what the CPU can do (default: probed by the addon)
 */
export function applyPrecision(precision: InferencePrecision, backend: string, caps: () => NativeCapabilities = nativeCapabilities): void {
  if (precision === 'fp32') {
    if (backend === 'native') setInferencePrecision('fp32');
    return;
  }
  if (backend !== 'native') {
    throw new CliError(`--precision bf16: needs the native backend (oneDNN bf16 convolutions), the active backend is ${backend}; use --backend native or --precision fp32`);
  }
  const c = caps();
  if (!c.bf16) throw new CliError(bf16Refusal(c));
  setInferencePrecision(precision);
}
