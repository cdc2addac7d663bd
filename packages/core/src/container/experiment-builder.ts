import type { Plugin } from '../contracts/plugin.js';
import { Experiment, type ExperimentOptions, type Provider } from './experiment.js';
import type { RegistryKind, RegistryKinds, Token } from './tokens.js';

/**
 * Builds an {@link Experiment} with some parts swapped, the way Nest's testing module builder
 * swaps a provider: tests override through the container, never by monkey-patching a plugin.
 *
 * Overrides are applied after every plugin has registered, so they win regardless of order:
 *
 * ```ts
 * const experiment = createTestExperiment({ plugins: [lossesPlugin(), unetPlugin()] })
 *   .overrideEntry('loss', { name: 'dice-bce', create: () => constantLoss })
 *   .overrideProvider(MyClockToken).useValue(fakeClock)
 *   .build();
 * ```
 */
export class ExperimentBuilder {
  private readonly plugins: Plugin[];
  private readonly entries: { kind: RegistryKind; entry: RegistryKinds[RegistryKind] }[] = [];
  private readonly providers: { token: Token<unknown>; provider: Provider<unknown> }[] = [];

  constructor(private readonly options: ExperimentOptions = {}) {
    this.plugins = [...(options.plugins ?? [])];
  }

  /** Add plugins (registered in order, after those given to the constructor). */
  use(...plugins: Plugin[]): this {
    this.plugins.push(...plugins);
    return this;
  }

  /**
   * Replace (or add) the registry entry `entry.name` of `kind`, e.g. a loss that returns a
   * constant. Registered with `{ override: true }` after all plugins.
   */
  overrideEntry<K extends RegistryKind>(kind: K, entry: RegistryKinds[K]): this {
    this.entries.push({ kind, entry });
    return this;
  }

  /** Replace what `token` resolves to in the built experiment: `.useValue(v)` or `.useFactory(fn)`. */
  overrideProvider<T>(token: Token<T>): { useValue(value: T): ExperimentBuilder; useFactory(factory: Extract<Provider<T>, { useFactory: unknown }>['useFactory']): ExperimentBuilder } {
    return {
      useValue: (value: T) => {
        this.providers.push({ token, provider: { useValue: value } });
        return this;
      },
      useFactory: (factory) => {
        this.providers.push({ token, provider: { useFactory: factory } });
        return this;
      },
    };
  }

  /** A new experiment: plugins first, then entry overrides, then provider overrides. */
  build(): Experiment {
    const experiment = new Experiment({ ...this.options, plugins: this.plugins });
    for (const { kind, entry } of this.entries) experiment.registry(kind).register(entry as never, { override: true });
    for (const { token, provider } of this.providers) experiment.provide(token, provider);
    return experiment;
  }
}

/** Start an {@link ExperimentBuilder}: an experiment for tests, with parts swapped through the container. */
export function createTestExperiment(options: ExperimentOptions = {}): ExperimentBuilder {
  return new ExperimentBuilder(options);
}
