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
  /** Semver of the plugin, reported in `runStart` and written to `config.json`. */
  readonly version: string;
  /**
   * Called once per experiment, synchronously, when the plugin is added. Register every
   * implementation the plugin provides through `ctx`. Must not keep a reference to `ctx`
   * in module scope.
   */
  register(ctx: PluginContext): void;
}
