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

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry, or an error listing every registered name. */
  get(name: string): T {
    const entry = this.entries.get(name);
    if (!entry) {
      const known = this.names();
      throw new RegistryError(
        `Unknown ${this.kind} "${name}"; registered: ${known.length ? known.join(', ') : '(none)'}`,
      );
    }
    return entry;
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  values(): T[] {
    return this.names().map((n) => this.entries.get(n)!);
  }
}
