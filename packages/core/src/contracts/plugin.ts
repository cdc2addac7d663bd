import type { PluginContext } from '../container/experiment.js';

/**
 * A voxseg plugin: the unit a user installs from npm and hands to an experiment.
 *
 * A plugin package exports a *factory* (`export function unetPlugin(options?): Plugin`) that
 * returns a fresh plugin object. The object holds no module-level state: creating it twice,
 * or registering it twice in one experiment, is harmless (the second registration of the same
 * plugin name is a no-op).
 *
 * @example
 * ```ts
 * export const myPlugin = (): Plugin => ({
 *   name: 'my-plugin',
 *   version: '1.0.0',
 *   register(ctx) {
 *     ctx.registerBlock({ name: 'my-block', create: (c) => ({ apply: (x) => x }) });
 *   },
 * });
 * ```
 */
export interface Plugin {
  /** Unique, npm-like name (e.g. `@voxseg/plugin-unet`). Used to make registration idempotent. */
  readonly name: string;
  /**
   * Semver of the plugin, reported in `runStart` and written to `config.json`. Read it from
   * the package's own package.json (`pluginVersion(import.meta.url)`) rather than typing it.
   */
  readonly version: string;
  /**
   * Names of plugins whose entries this one uses (e.g. `@voxseg/plugin-axial-attention`
   * fills a slot of `@voxseg/plugin-unet`'s network). They must be added to the experiment
   * first; otherwise `use()` fails with one line naming the missing plugin. A plugin never
   * registers another plugin's entries itself.
   */
  readonly dependencies?: readonly string[];
  /**
   * Where the plugin can be loaded again: set by `loadPluginModule` (for `--plugin MODULE`)
   * and by the engine for its built-in plugins. Worker threads rebuild the experiment's
   * registries from these (`experimentFromSources`), so a batch worker applies exactly the
   * augmenters the main thread resolved. Plugins handed over as objects have none.
   */
  readonly source?: PluginSource;
  /**
   * Called once per experiment, synchronously, when the plugin is added. Register every
   * implementation the plugin provides through `ctx`. Must not keep a reference to `ctx`
   * in module scope.
   */
  register(ctx: PluginContext): void;
}

/**
 * A module that exports a plugin factory: `module` is an npm package name or an absolute
 * `file:` URL; `export` is the name of the factory (`default` when omitted). Loading it means
 * `(await import(module))[export](options)`.
 */
export interface PluginSource {
  readonly module: string;
  readonly export?: string;
  /** JSON options passed to the factory. */
  readonly options?: Record<string, unknown>;
}
