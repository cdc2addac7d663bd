import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { registerWebGPUBackend, type WebGPUBackendStatus } from '../backend/register-webgpu.js';

/**
 * Register the `webgpu` backend for a test file. The repository's Vitest config runs this
 * package's tests with Chromium's SwiftShader as the Vulkan driver when it is installed
 * (`.ci/run` installs it), so every kernel is checked on the CPU in CI; without any adapter
 * the suites skip, naming the reason.
 */
export async function webgpuForTests(): Promise<WebGPUBackendStatus> {
  const status = await registerWebGPUBackend();
  if (!status.available) console.warn(`webgpu tests skipped: ${status.reason}`);
  return status;
}

/**
 * Run `f` on `backend` in a tidy and read every output back (async: webgpu has no sync reads
 * in Node); every tensor it made is disposed.
 */
export async function runOn<T extends tf.Tensor | tf.Tensor[]>(backend: string, f: () => T): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => new Float32Array(await t.data())));
  tf.dispose(list);
  return values;
}

/** Max |a - b| / max(|b|max, floor): a relative error over the whole tensor. */
export function relError(a: Float32Array, b: Float32Array, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) return Infinity;
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/** Seeded values in [-1, 1) for a shape (mulberry32), identical on every backend. */
export function seeded(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    v[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return tf.tensor(v, shape);
}
