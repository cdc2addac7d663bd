import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { Plugin, PluginSource } from '../contracts/plugin.js';
import { Registry, type RegisterOptions, RegistryError } from './registry.js';
import { REGISTRY_KINDS, type RegistryKind, type RegistryKinds, type Token, Tokens } from './tokens.js';

/**
 * What a plugin's `register` receives: one method per extension point, plus the experiment's
 * own child container for anything else (`ctx.container.register(myToken.symbol, ...)`).
 */
export interface PluginContext {
  readonly container: DependencyContainer;
  register<K extends RegistryKind>(kind: K, entry: RegistryKinds[K], options?: RegisterOptions): void;
  registerDataset(entry: RegistryKinds['dataset'], options?: RegisterOptions): void;
  registerAugmenter(entry: RegistryKinds['augmenter'], options?: RegisterOptions): void;
  registerBlock(entry: RegistryKinds['block'], options?: RegisterOptions): void;
  registerLoss(entry: RegistryKinds['loss'], options?: RegisterOptions): void;
  registerScheduler(entry: RegistryKinds['scheduler'], options?: RegisterOptions): void;
  registerMetric(entry: RegistryKinds['metric'], options?: RegisterOptions): void;
  registerNetwork(entry: RegistryKinds['network'], options?: RegisterOptions): void;
  registerPreset(entry: RegistryKinds['preset'], options?: RegisterOptions): void;
  registerOptimizer(entry: RegistryKinds['optimizer'], options?: RegisterOptions): void;
  registerSampler(entry: RegistryKinds['sampler'], options?: RegisterOptions): void;
  registerCriterion(entry: RegistryKinds['criterion'], options?: RegisterOptions): void;
}

/**
 * How a value is provided under a {@link Token} (a single role: last registration wins).
 * - `useValue`: that value.
 * - `useFactory`: called once per experiment, on first resolve, with the experiment; the
 *   result is cached in that experiment (so two experiments get two instances).
 */
export type Provider<T> = { useValue: T } | { useFactory: (ctx: ExperimentContext) => T };

/** Read access to an experiment's registries, given to factories. */
export interface ExperimentContext {
  readonly container: DependencyContainer;
  registry<K extends RegistryKind>(kind: K): Registry<RegistryKinds[K]>;
  /** Shorthand for `registry(kind).get(name)`; throws listing the registered names. */
  get<K extends RegistryKind>(kind: K, name: string): RegistryKinds[K];
  /**
   * Resolve any typed token from the experiment's container (falling back to its parent).
   * Throws naming the token when nothing is registered under it.
   */
  resolve<T>(token: Token<T>): T;
  /** True when something is registered under `token` here or in a parent container. */
  has(token: Token<unknown>): boolean;
}

export interface ExperimentOptions {
  /** Plugins to register, in order (later ones may override earlier ones explicitly). */
  plugins?: Plugin[];
  /** Parent container; defaults to tsyringe's root container. Registries are never shared. */
  parent?: DependencyContainer;
}

/**
 * An experiment: its own child container with a fresh registry per extension point, and the
 * plugins registered into it. Two experiments in one process share no state.
 */
export class Experiment implements ExperimentContext {
  readonly container: DependencyContainer;
  private readonly plugins = new Map<string, Plugin>();
  /** Which plugin registered each entry (`kind/name` -> plugin name), for listings. */
  private readonly owners = new Map<string, string>();

  constructor(options: ExperimentOptions = {}) {
    this.container = (options.parent ?? rootContainer).createChildContainer();
    for (const kind of REGISTRY_KINDS) {
      this.container.registerInstance(Tokens[kind].symbol, new Registry(kind));
    }
    for (const plugin of options.plugins ?? []) this.use(plugin);
  }

  /**
   * Register a plugin. Registering a plugin with the same name and version again is a no-op
   * (plugin factories may be called more than once); the same name with another version is an
   * error, since two versions of one plugin cannot both own its names. An exception thrown by
   * the plugin's `register` is rethrown with the plugin's name in front; entries it registered
   * before throwing stay registered, so discard the experiment.
   */
  use(plugin: Plugin): this {
    if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string' || !plugin.name) {
      throw new RegistryError('use(plugin): expected a plugin object { name, version, register(ctx) }; did you pass the factory instead of calling it?');
    }
    const existing = this.plugins.get(plugin.name);
    if (existing) {
      if (existing.version !== plugin.version) {
        throw new RegistryError(
          `Plugin "${plugin.name}" is already registered at version ${existing.version}; cannot also register version ${plugin.version}`,
        );
      }
      return this;
    }
    const missing = (plugin.dependencies ?? []).filter((d) => !this.plugins.has(d));
    if (missing.length) {
      throw new RegistryError(
        `Plugin "${plugin.name}" needs ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not registered; add ${missing.length > 1 ? 'them' : 'it'} to the experiment before "${plugin.name}"`,
      );
    }
    try {
      plugin.register(this.pluginContext(plugin.name));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new RegistryError(`Plugin "${plugin.name}" failed to register: ${message}`, { cause: err });
    }
    this.plugins.set(plugin.name, plugin);
    return this;
  }

  /**
   * Provide a value for a single-role token in this experiment only (last registration wins,
   * so this also overrides what a plugin or the parent container provided).
   */
  provide<T>(token: Token<T>, provider: Provider<T>): this {
    if ('useValue' in provider) {
      this.container.register<T>(token.symbol, { useValue: provider.useValue });
    } else {
      const factory = provider.useFactory;
      this.container.register<T>(token.symbol, { useFactory: instanceCachingFactory<T>(() => factory(this)) });
    }
    return this;
  }

  /** Registered plugins as `{ name, version }`, in registration order. */
  pluginList(): { name: string; version: string }[] {
    return [...this.plugins.values()].map((p) => ({ name: p.name, version: p.version }));
  }

  /** The registered plugin objects, in registration order. */
  registeredPlugins(): readonly Plugin[] {
    return [...this.plugins.values()];
  }

  /**
   * Where each registered plugin can be loaded again (plugins that carry a `source`), in
   * registration order: what worker threads need to rebuild these registries.
   */
  pluginSources(): PluginSource[] {
    return [...this.plugins.values()].flatMap((p) => (p.source ? [p.source] : []));
  }

  /** Every registered entry with its kind and the plugin that registered it (`voxseg plugins`). */
  entries(): { kind: RegistryKind; name: string; plugin: string; version: string; description?: string }[] {
    const out: { kind: RegistryKind; name: string; plugin: string; version: string; description?: string }[] = [];
    for (const kind of REGISTRY_KINDS) {
      for (const entry of this.registry(kind).values()) {
        const owner = this.owners.get(`${kind}/${entry.name}`) ?? '(direct)';
        const description = (entry as { description?: string }).description;
        out.push({ kind, name: entry.name, plugin: owner, version: this.plugins.get(owner)?.version ?? '', ...(description ? { description } : {}) });
      }
    }
    return out;
  }

  registry<K extends RegistryKind>(kind: K): Registry<RegistryKinds[K]> {
    return this.container.resolve<Registry<RegistryKinds[K]>>(Tokens[kind].symbol);
  }

  get<K extends RegistryKind>(kind: K, name: string): RegistryKinds[K] {
    return this.registry(kind).get(name);
  }

  resolve<T>(token: Token<T>): T {
    if (!this.container.isRegistered(token.symbol, true)) {
      throw new RegistryError(`Nothing is provided for token "${token.description}" in this experiment; register it with experiment.provide(...) or from a plugin`);
    }
    return this.container.resolve<T>(token.symbol);
  }

  has(token: Token<unknown>): boolean {
    return this.container.isRegistered(token.symbol, true);
  }

  private pluginContext(owner: string): PluginContext {
    const register = <K extends RegistryKind>(kind: K, entry: RegistryKinds[K], options?: RegisterOptions) => {
      this.registry(kind).register(entry, options);
      this.owners.set(`${kind}/${entry.name}`, owner);
    };
    return {
      container: this.container,
      register,
      registerDataset: (e, o) => register('dataset', e, o),
      registerAugmenter: (e, o) => register('augmenter', e, o),
      registerBlock: (e, o) => register('block', e, o),
      registerLoss: (e, o) => register('loss', e, o),
      registerScheduler: (e, o) => register('scheduler', e, o),
      registerMetric: (e, o) => register('metric', e, o),
      registerNetwork: (e, o) => register('network', e, o),
      registerPreset: (e, o) => register('preset', e, o),
      registerOptimizer: (e, o) => register('optimizer', e, o),
      registerSampler: (e, o) => register('sampler', e, o),
      registerCriterion: (e, o) => register('criterion', e, o),
    };
  }
}

/** Create an experiment with the given plugins (core's own built-ins are added by the caller via `corePlugin()`). */
export function createExperiment(options: ExperimentOptions = {}): Experiment {
  return new Experiment(options);
}

// The test builder lives in its own file; re-exported here so `@voxseg/core` exposes it
// through the existing barrel line for this module.
export { ExperimentBuilder, createTestExperiment } from './experiment-builder.js';
