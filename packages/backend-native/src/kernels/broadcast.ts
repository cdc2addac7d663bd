/**
 * Broadcasting plan for the addon's binary loop: drop size-1 output dimensions, merge
 * neighbours that broadcast the same way for both operands, and give each operand a
 * stride per remaining dimension (0 where it broadcasts). `[2,64,64,64,32] + [32]` becomes
 * dims `[524288, 32]` with strides a `[32, 1]`, b `[0, 1]`.
 */
export interface BroadcastPlan {
  dims: number[];
  stridesA: number[];
  stridesB: number[];
}

/** Plan for out = a op b; `outShape` is tfjs's broadcast shape of the two. */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): BroadcastPlan {
  const r = outShape.length;
  const pad = (s: readonly number[]) => [...new Array<number>(r - s.length).fill(1), ...s];
  const a = pad(aShape);
  const b = pad(bShape);
  // Per output dim: size, whether a and b vary along it.
  const groups: { size: number; fa: boolean; fb: boolean }[] = [];
  for (let i = 0; i < r; i++) {
    const size = outShape[i]!;
    if (size === 1) continue;
    const fa = a[i] === size;
    const fb = b[i] === size;
    const last = groups[groups.length - 1];
    if (last && last.fa === fa && last.fb === fb) last.size *= size;
    else groups.push({ size, fa, fb });
  }
  if (groups.length === 0) groups.push({ size: 1, fa: false, fb: false });
  const strides = (full: (g: (typeof groups)[number]) => boolean) => {
    const s = new Array<number>(groups.length).fill(0);
    let acc = 1;
    for (let i = groups.length - 1; i >= 0; i--) {
      if (full(groups[i]!)) {
        s[i] = acc;
        acc *= groups[i]!.size;
      }
    }
    return s;
  };
  return { dims: groups.map((g) => g.size), stridesA: strides((g) => g.fa), stridesB: strides((g) => g.fb) };
}

/**
 * The reduction as [outer, reduced, inner] when the reduced axes are one contiguous block
 * once size-1 dimensions are ignored (true for every reduction a channels-last network
 * does: over space, over batch and space, over everything); otherwise null.
 */
export function reductionPlan(shape: readonly number[], axes: readonly number[]): { outer: number; red: number; inner: number } | null {
  const set = new Set(axes);
  let outer = 1;
  let red = 1;
  let inner = 1;
  let phase = 0; // 0: before the reduced block, 1: inside, 2: after
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const reduced = set.has(i);
    if (phase === 0 && reduced) phase = 1;
    else if (phase === 1 && !reduced) phase = 2;
    else if (phase === 2 && reduced) return null;
    if (phase === 0) outer *= d;
    else if (phase === 1) red *= d;
    else inner *= d;
  }
  return { outer, red, inner };
}
