import type { Batch, BatchProvider } from '@voxseg/core';
import { Rng } from '@voxseg/core';

/** Options of {@link sphereBatches}. */
export interface SphereBatchesOptions {
  /** Cubic patch edge in voxels. */
  patch: number;
  /** Samples per batch. Default 2. */
  batchSize?: number;
  /** Seed; batch `i` depends only on (seed, i), as the BatchProvider contract requires. */
  seed: number;
}

/**
 * An in-memory BatchProvider with a BraTS-like toy task: one image channel with a bright
 * sphere in Gaussian noise; two nested target regions, `WT` (the sphere) and `TC` (its inner
 * half radius). Each batch is drawn from its own generator `Rng("<seed>:<index>")`, so any
 * batch can be (re)made in any order: prefetching and resume need nothing else.
 */
export function sphereBatches(options: SphereBatchesOptions): BatchProvider {
  const p = options.patch;
  const n = options.batchSize ?? 2;
  return {
    patchShape: [p, p, p, 1],
    batchSize: n,
    targetChannels: ['WT', 'TC'],
    async batch(index: number): Promise<Batch> {
      const rng = new Rng(`${options.seed}:${index}`);
      const image = new Float32Array(n * p ** 3);
      const target = new Uint8Array(n * p ** 3 * 2);
      for (let s = 0; s < n; s++) {
        const r = rng.uniform(p / 6, p / 3);
        const c = [0, 1, 2].map(() => rng.uniform(r, p - r));
        for (let z = 0; z < p; z++) {
          for (let y = 0; y < p; y++) {
            for (let x = 0; x < p; x++) {
              const v = ((s * p + z) * p + y) * p + x;
              const d = Math.hypot(z - c[0]!, y - c[1]!, x - c[2]!);
              image[v] = (d < r ? 1 : 0) + 0.5 * rng.normal();
              target[2 * v] = d < r ? 1 : 0;
              target[2 * v + 1] = d < r / 2 ? 1 : 0;
            }
          }
        }
      }
      return { image, shape: [n, p, p, p, 1], target, targetChannels: 2, caseIds: Array.from({ length: n }, (_, s) => `sphere-${index}-${s}`) };
    },
  };
}
