import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin, PluginSource } from '../contracts/plugin.js';
import { Experiment } from './experiment.js';
import { RegistryError } from './registry.js';

/** True when `specifier` names a file (a path or a `file:` URL) rather than an npm package. */
function isFileSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('file:') ||
    specifier.startsWith('.') ||
    isAbsolute(specifier) ||
    /\.(m?js|cjs)$/.test(specifier)
  );
}

/**
 * Turn what a user typed (`--plugin ./my-plugin.mjs`, `--plugin @acme/voxseg-plugin`) into a
 * {@link PluginSource} that loads the same module from any thread: file paths become absolute
 * `file:` URLs (resolved against `cwd`), package names stay as they are.
 * @throws one line naming the specifier when a file does not exist
 */
export function pluginSource(specifier: string, options: { cwd?: string; export?: string; options?: Record<string, unknown> } = {}): PluginSource {
  if (typeof specifier !== 'string' || specifier.trim() === '') throw new RegistryError('plugin: expected a module name or a file path');
  let module = specifier;
  if (isFileSpecifier(specifier)) {
    const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(options.cwd ?? process.cwd(), specifier);
    if (!existsSync(file)) throw new RegistryError(`plugin ${specifier}: file not found (${file})`);
    module = pathToFileURL(file).href;
  }
  return { module, ...(options.export ? { export: options.export } : {}), ...(options.options ? { options: options.options } : {}) };
}

/**
 * Load a plugin from a module: `(await import(source.module))[source.export ?? 'default']`
 * must be a plugin factory (a function returning a {@link Plugin}); it is called with
 * `source.options`. The returned plugin carries `source`, so worker threads can load it again.
 * @throws one line naming the module and what is wrong (not installed, no such export, not a factory)
 */
export async function loadPlugin(source: PluginSource): Promise<Plugin> {
  const label = source.module.startsWith('file:') ? fileURLToPath(source.module) : source.module;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(source.module)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ERR_MODULE_NOT_FOUND' && !source.module.startsWith('file:') ? `; install it (npm install ${source.module})` : '';
    throw new RegistryError(`plugin ${label}: cannot load (${e.message.split('\n')[0]})${hint}`, { cause: err });
  }
  const name = source.export ?? 'default';
  const factory = mod[name];
  if (factory === undefined) throw new RegistryError(`plugin ${label}: no export "${name}" (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  if (typeof factory !== 'function') throw new RegistryError(`plugin ${label}: export "${name}" is not a plugin factory (a function returning { name, version, register })`);
  const plugin = (factory as (o?: Record<string, unknown>) => Plugin)(source.options);
  if (!plugin || typeof plugin.register !== 'function' || typeof plugin.name !== 'string' || typeof plugin.version !== 'string') {
    throw new RegistryError(`plugin ${label}: export "${name}" did not return a plugin ({ name, version, register(ctx) })`);
  }
  return withSource(plugin, source);
}

/** The same plugin, remembering where it was loaded from. */
export function withSource(plugin: Plugin, source: PluginSource): Plugin {
  return {
    name: plugin.name,
    version: plugin.version,
    ...(plugin.dependencies ? { dependencies: plugin.dependencies } : {}),
    source,
    register: (ctx) => plugin.register(ctx),
  };
}

/**
 * A fresh {@link Experiment} with the plugins of `sources`, loaded and registered in order:
 * how a worker thread rebuilds the registries of the experiment that started it.
 */
export async function experimentFromSources(sources: readonly PluginSource[]): Promise<Experiment> {
  const experiment = new Experiment();
  for (const source of sources) experiment.use(await loadPlugin(source));
  return experiment;
}

/**
 * The `version` of the package a module belongs to, read from the package.json one folder
 * above it (`src/plugin.ts` and `dist/plugin.js` both sit one level below the package root),
 * so a plugin never types its version twice: `version: pluginVersion(import.meta.url)`.
 */
export function pluginVersion(moduleUrl: string): string {
  const file = fileURLToPath(new URL('../package.json', moduleUrl));
  try {
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    if (typeof version !== 'string') throw new Error('no "version" field');
    return version;
  } catch (err) {
    throw new RegistryError(`${file}: cannot read the plugin's version (${(err as Error).message})`);
  }
}
