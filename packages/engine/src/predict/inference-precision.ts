import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../errors.js';

/**
 * Put `inference.precision` into force for one prediction and return how to undo it. `fp32`
 * is every backend's own arithmetic. `bf16` needs the `native` backend (oneDNN's bf16
 * convolutions, `@voxseg/backend-native`'s `setInferencePrecision`) on a CPU that has them;
 * elsewhere one line says why, instead of running fp32 silently.
 * @param backend the active tfjs backend (default `tf.getBackend()`)
 * @returns a function restoring the previous precision
 */
export async function applyInferencePrecision(precision: 'fp32' | 'bf16', backend: string = tf.getBackend()): Promise<() => void> {
  if (precision === 'fp32' && backend !== 'native') return () => {};
  if (backend !== 'native') {
    throw new EngineError(`inference.precision bf16: needs the native backend (oneDNN bf16 convolutions), the active backend is ${backend}; use --backend native or --precision fp32`);
  }
  // Loaded only here: the native package is needed for bf16 alone, and its import is cheap
  // (the addon itself is loaded by the backend, which is active at this point).
  const native = await import('@voxseg/backend-native');
  const before = native.inferencePrecision();
  if (precision === 'bf16') {
    const caps = native.nativeCapabilities();
    if (!caps.bf16) throw new EngineError(native.bf16Refusal(caps));
  }
  native.setInferencePrecision(precision);
  return () => native.setInferencePrecision(before);
}
