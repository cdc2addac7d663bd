import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select-backend.js';

/**
 * For test suites that must pass on every backend: activate the backend named by the
 * `VOXSEG_TEST_BACKEND` environment variable (default `cpu`) and return its name. The
 * repository's Vitest config runs the U-Net and losses suites once on `cpu` and once on
 * `native` (when the addon is built) this way.
 */
export async function setTestBackend(): Promise<string> {
  const wanted = process.env.VOXSEG_TEST_BACKEND ?? 'cpu';
  if (tf.getBackend() === wanted) return wanted;
  return (await selectBackend(wanted)).name;
}
