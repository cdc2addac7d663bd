/**
 * Recycles the large Float32Arrays the native kernels allocate for their outputs.
 *
 * Why: a fresh large array is a fresh mmap whose pages fault in one by one (and are unmapped
 * when collected). On this 2-core VM, allocating and filling 64 MB took ~108 ms against
 * ~23 ms for refilling a reused one, and a U-Net step at 64^3 x batch 2 allocates hundreds
 * of such activations. tfjs tells the backend exactly when a tensor's data dies
 * (`disposeData`), so the array can be reused for the next output of the same length.
 *
 * Safety: an array is recycled only when this pool allocated it, exactly one tensor ever
 * held it, and its contents never left the backend: `dataSync()`/`data()` hand out the
 * backing array itself in cpu-style backends, and some cpu kernels return views
 * (`subarray`) of their input, so any array that was read, or registered a second time
 * (as a view or an alias), is never recycled. Arrays tfjs receives from users are never
 * owned here. Memory held by the pool is capped (`maxBytes`).
 */
export class Float32Pool {
  private readonly free = new Map<number, Float32Array[]>();
  private bytes = 0;
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly live = new WeakSet<ArrayBufferLike>();
  private readonly shared = new WeakSet<ArrayBufferLike>();

  /**
   * @param minLength arrays shorter than this are not pooled (malloc serves them well)
   * @param maxBytes most memory kept for reuse
   */
  constructor(readonly minLength = 1 << 18, readonly maxBytes = 1 << 30) {}

  /** An array of `n` floats with undefined contents when recycled (callers overwrite it all). */
  alloc(n: number): Float32Array {
    if (n < this.minLength) return new Float32Array(n);
    const reused = this.free.get(n)?.pop();
    if (reused) {
      this.bytes -= reused.byteLength;
      return reused;
    }
    const a = new Float32Array(n);
    this.owned.add(a.buffer);
    return a;
  }

  /** The backend stored `values` for a tensor. */
  onWrite(values: unknown): void {
    const buf = ownedBuffer(values, this.owned);
    if (!buf) return;
    if (this.live.has(buf)) this.shared.add(buf);
    else this.live.add(buf);
  }

  /** `values` left the backend (dataSync/data): never recycle it. */
  onRead(values: unknown): void {
    const buf = ownedBuffer(values, this.owned);
    if (buf) this.shared.add(buf);
  }

  /** The tensor holding `values` was disposed. */
  onDispose(values: unknown): void {
    const buf = ownedBuffer(values, this.owned);
    if (!buf || this.shared.has(buf)) return;
    this.live.delete(buf);
    const a = values as Float32Array;
    if (a.byteOffset !== 0 || a.byteLength !== buf.byteLength || this.bytes + a.byteLength > this.maxBytes) return;
    let list = this.free.get(a.length);
    if (!list) this.free.set(a.length, (list = []));
    list.push(a);
    this.bytes += a.byteLength;
  }

  /** Bytes currently kept for reuse. */
  get pooledBytes(): number {
    return this.bytes;
  }

  /** Drop every kept array (they are then garbage-collected). */
  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}

function ownedBuffer(values: unknown, owned: WeakSet<ArrayBufferLike>): ArrayBufferLike | undefined {
  return values instanceof Float32Array && owned.has(values.buffer) ? values.buffer : undefined;
}
