/**
 * Where each foreground class lies in a label map: for every label value > 0 present, the
 * flat indices ([D, H, W] row-major) of its voxels. Built once per case and reused for every
 * foreground-oversampled patch (nnU-Net v1 precomputes the same `class_locations` during
 * preprocessing; it keeps a random subset of at most 10,000 voxels per class, we keep all,
 * so the choice is uniform over the class's voxels).
 */
export interface ForegroundIndex {
  /** Label values > 0 present in the map, ascending. */
  classes: number[];
  /** Flat voxel indices per class, in the order of `classes`. */
  voxels: Int32Array[];
}

/** Build the {@link ForegroundIndex} of a label map in two passes (count, then fill). */
export function buildForegroundIndex(label: Uint8Array): ForegroundIndex {
  const counts = new Int32Array(256);
  for (let i = 0; i < label.length; i++) counts[label[i]!]!++;
  const classes: number[] = [];
  const slot = new Int32Array(256).fill(-1);
  const voxels: Int32Array[] = [];
  for (let v = 1; v < 256; v++) {
    if (counts[v]! > 0) {
      slot[v] = classes.length;
      classes.push(v);
      voxels.push(new Int32Array(counts[v]!));
    }
  }
  const fill = new Int32Array(classes.length);
  for (let i = 0; i < label.length; i++) {
    const s = slot[label[i]!]!;
    if (s >= 0) voxels[s]![fill[s]!++] = i;
  }
  return { classes, voxels };
}

/**
 * Whether sample `indexInBatch` of a batch must be centred on foreground: nnU-Net v1's
 * `get_do_oversample`, true for the last `round(batchSize * percent)` samples
 * (`indexInBatch >= batchSize - round(batchSize * percent)`). With the default 0.33 and
 * batch 2 the second sample is oversampled. At least one sample is oversampled whenever
 * `percent > 0`, as docs/method.md states for batch 2 (for batch 1, round(0.33) = 0 would
 * otherwise give none).
 */
export function isForegroundSample(indexInBatch: number, batchSize: number, percent = 0.33): boolean {
  if (!(percent > 0)) return false;
  // Python's round() is round-half-even; batchSize*percent is never an exact .5 for
  // percent 0.33, but follow it anyway so other percents behave as in nnU-Net.
  const x = batchSize * percent;
  const r = Math.round(x);
  const halfEven = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
  const count = Math.max(1, halfEven);
  return indexInBatch >= batchSize - count;
}
