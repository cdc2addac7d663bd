/** Anything a registry can hold: it has a name. */
export interface Named {
  readonly name: string;
}

export interface RegisterOptions {
  /**
   * Replace an existing entry of the same name (last registration wins). Without it,
   * registering a different entry under a taken name throws.
   */
  override?: boolean;
}

/** Thrown for unknown names and duplicate registrations. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/**
 * A name -> entry map for one extension point (datasets, losses, blocks, ...).
 * Registering the very same entry object twice is harmless; a different entry under a taken
 * name is an error unless `{ override: true }`.
 */
export class Registry<T extends Named> {
  private readonly entries = new Map<string, T>();

  /** @param kind human-readable kind for error messages, e.g. `loss`. */
  constructor(readonly kind: string) {}

  /** Add `entry` under `entry.name`. See the class docs for duplicates and `override`. */
  register(entry: T, options: RegisterOptions = {}): void {
    if (!entry || typeof entry.name !== 'string' || entry.name.length === 0) {
      throw new RegistryError(`Cannot register a ${this.kind} without a name`);
    }
    const existing = this.entries.get(entry.name);
    if (existing && existing !== entry && !options.override) {
      throw new RegistryError(
        `A ${this.kind} named "${entry.name}" is already registered; pass { override: true } to replace it`,
      );
    }
    this.entries.set(entry.name, entry);
  }

  /** True when an entry is registered under `name`. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry, or an error listing every registered name (and the closest one, if any is close). */
  get(name: string): T {
    const entry = this.entries.get(name);
    if (!entry) {
      const known = this.names();
      const close = closestName(name, known);
      throw new RegistryError(
        `Unknown ${this.kind} "${name}"${close ? ` (did you mean "${close}"?)` : ''}; registered: ${known.length ? known.join(', ') : '(none)'}`,
      );
    }
    return entry;
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Registered entries, sorted by name. */
  values(): T[] {
    return this.names().map((n) => this.entries.get(n)!);
  }
}

/** The registered name closest to a typo (case-insensitive edit distance <= 2), if any. */
function closestName(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
