import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

/** What a user may ask for (`--backend`). */
export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'native' | 'cpu' | 'wasm';

/** Every valid {@link BackendChoice}, in the order they are documented. */
export const BACKEND_CHOICES: readonly BackendChoice[] = Object.freeze(['auto', 'tensorflow', 'webgpu', 'native', 'cpu', 'wasm']);

/** The backend that was selected and why; reported in `runStart` and `config.json`. */
export interface BackendSelection {
  /** What was asked for. */
  requested: BackendChoice;
  /** The tfjs backend now active (`tf.getBackend()`): `tensorflow`, `webgpu`, `native`, `cpu` or `wasm`. */
  name: string;
  /** One line: which package provides it and, for `auto`, why earlier candidates were skipped. */
  reason: string;
  /** Threads the backend computes with, when known. */
  threads?: number;
  /**
   * For `webgpu`: the adapter (vendor, architecture, description, whether it is a software
   * rasteriser, limits), as `@voxseg/backend-webgpu` reports it.
   */
  adapter?: WebGPUAdapterSummary;
}

/** The adapter fields of `@voxseg/backend-webgpu`'s report that a selection carries. */
export interface WebGPUAdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  software: boolean;
  limits: Record<string, number>;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Receives the one line naming the selected backend (default: nothing is printed). */
  log?: (line: string) => void;
  /** Receives one line per candidate `auto` skipped, with the reason. */
  debug?: (line: string) => void;
  /**
   * Loads a module by name (default: `import(specifier)`). Exposed so tests and embedders
   * can decide which optional packages exist without touching the file system.
   */
  importModule?: (specifier: string) => Promise<unknown>;
}

/** Thrown when an explicitly requested backend cannot be used, or the name is unknown. */
export class BackendUnavailableError extends Error {
  /** Always `BackendUnavailableError`, so callers can tell it apart after serialisation. */
  override readonly name = 'BackendUnavailableError';
}

/** A candidate could not be set up: why, and how to enable it. */
interface Unavailable {
  ok: false;
  reason: string;
  enable: string;
}
interface Available {
  ok: true;
  reason: string;
  threads?: number;
  adapter?: WebGPUAdapterSummary;
}
type Attempt = Available | Unavailable;

const TFJS_NODE_HINT =
  'install it with `npm install @tensorflow/tfjs-node` (or `@tensorflow/tfjs-node-gpu` for CUDA); its install script downloads libtensorflow';
const WEBGPU_HINT = 'install `@voxseg/backend-webgpu` and a Vulkan driver for the GPU (see that package\'s README)';
const NATIVE_HINT = 'install `@voxseg/backend-native` and build its addon (see that package\'s README)';

/**
 * Choose and activate the TensorFlow.js backend.
 *
 * - `auto` tries, in order: `tensorflow` (`@tensorflow/tfjs-node-gpu`, then
 *   `@tensorflow/tfjs-node`; optional packages), `webgpu` (`@voxseg/backend-webgpu`, only
 *   on a hardware GPU adapter: never a software rasteriser such as SwiftShader, lavapipe or
 *   llvmpipe, which run slower than the CPU backends), `native` (`@voxseg/backend-native`,
 *   when installed and its addon loads), then `cpu` (pure JS, always available). Each skipped
 *   candidate is reported through `debug` with its reason; nothing is printed otherwise.
 * - `webgpu` explicitly takes any adapter, software ones included (how CI tests it).
 * - An explicit choice that cannot be used throws a {@link BackendUnavailableError} whose
 *   message is one line saying why and how to enable it. Nothing falls back silently.
 * - `wasm` uses `@tensorflow/tfjs-backend-wasm`, loading its `.wasm` files from the
 *   package's `dist` folder.
 *
 * The selected backend is announced through `log` as `backend: <name> (<reason>)`.
 *
 * @returns the selection, including the active tfjs backend name
 */
export async function selectBackend(choice: BackendChoice | string = 'auto', options: SelectBackendOptions = {}): Promise<BackendSelection> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new BackendUnavailableError(`unknown backend '${choice}'; valid names: ${BACKEND_CHOICES.join(', ')}`);
  }
  const requested = choice as BackendChoice;
  const load = options.importModule ?? ((s: string) => import(s));
  const attempts: Record<Exclude<BackendChoice, 'auto'>, () => Promise<Attempt>> = {
    tensorflow: () => tryTensorflow(load),
    webgpu: () => tryWebgpu(load, requested === 'auto', options.importModule === undefined),
    native: () => tryNative(load),
    cpu: () => tryCpu(load),
    wasm: () => tryWasm(load),
  };

  let selected: Available | undefined;
  if (requested === 'auto') {
    const skipped: string[] = [];
    for (const candidate of ['tensorflow', 'webgpu', 'native', 'cpu'] as const) {
      const a = await attempts[candidate]();
      if (a.ok) {
        selected = a;
        break;
      }
      options.debug?.(`backend auto: skipping ${candidate}: ${a.reason}`);
      skipped.push(`${candidate}: ${a.reason}`);
    }
    if (!selected) throw new BackendUnavailableError(`backend auto: no backend could be set up (${skipped.join('; ')})`);
  } else {
    const a = await attempts[requested]();
    if (!a.ok) throw new BackendUnavailableError(`backend '${requested}' is unavailable: ${a.reason}; to enable it, ${a.enable}`);
    selected = a;
  }
  const selection: BackendSelection = {
    requested,
    name: tf.getBackend(),
    reason: selected.reason,
    ...(selected.threads !== undefined ? { threads: selected.threads } : {}),
    ...(selected.adapter ? { adapter: selected.adapter } : {}),
  };
  const threads = selection.threads ? `, ${selection.threads} thread${selection.threads === 1 ? '' : 's'}` : '';
  options.log?.(`backend: ${selection.name} (${selection.reason}${threads})`);
  return selection;
}

/**
 * True when `err` says the package itself is not installed, as opposed to installed but
 * failing to load (a missing dependency of it, a broken native binary): only the first is a
 * quiet fallback. Node says "Cannot find package 'x'"; bundlers and vite say "Could not
 * resolve \"x\"".
 */
function isNotInstalled(err: unknown, specifier: string): boolean {
  const message = String((err as Error)?.message ?? '');
  return [`Cannot find package '${specifier}'`, `Cannot find module '${specifier}'`, `Could not resolve "${specifier}"`].some((m) =>
    message.includes(m),
  );
}

/** Import an optional package: the module, or a one-line reason it is absent or broken. */
async function importOptional(
  load: (s: string) => Promise<unknown>,
  specifier: string,
): Promise<{ module: unknown } | { reason: string }> {
  try {
    return { module: await load(specifier) };
  } catch (err) {
    if (isNotInstalled(err, specifier)) return { reason: `${specifier} is not installed` };
    return { reason: `${specifier} failed to load: ${firstLine(err)}` };
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/**
 * tfjs's cpu backend (and the native one, which extends it) prints a multi-line "install
 * tfjs-node" banner on its first tensor in Node. selectBackend already logs which backend
 * runs and how to enable a faster one, so the banner only repeats that, in the middle of a
 * command's output: mark the backend as used.
 */
function silenceNodeBanner(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

/** `tf.setBackend(name)`, turning a failed initialisation into a reason. */
async function activate(name: string): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (ok) silenceNodeBanner();
    return ok ? null : `tf.setBackend('${name}') failed to initialise`;
  } catch (err) {
    return `tf.setBackend('${name}') failed: ${firstLine(err)}`;
  }
}

async function tryTensorflow(load: (s: string) => Promise<unknown>): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const m = await importOptional(load, pkg);
    if ('reason' in m) {
      reasons.push(m.reason);
      continue;
    }
    // tfjs-node registers 'tensorflow' with the tfjs-core it resolves; when npm installed a
    // second copy of tfjs-core for it, our copy never sees that backend.
    if (!tf.findBackendFactory('tensorflow')) {
      reasons.push(`${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs-core (${tf.version_core}); align their versions`);
      continue;
    }
    const failed = await activate('tensorflow');
    if (failed) {
      reasons.push(`${pkg}: ${failed}`);
      continue;
    }
    return { ok: true, reason: `${pkg}, libtensorflow` };
  }
  return { ok: false, reason: reasons.join('; '), enable: TFJS_NODE_HINT };
}

/** The contract of `@voxseg/backend-webgpu` this module relies on. */
interface WebgpuModule {
  registerWebGPUBackend(): Promise<{ available: boolean; reason?: string; adapter?: WebGPUAdapterSummary }>;
  formatAdapter(a: WebGPUAdapterSummary): string;
}

async function tryWebgpu(load: (s: string) => Promise<unknown>, hardwareOnly: boolean, realModules: boolean): Promise<Attempt> {
  // Without a Vulkan loader Dawn can find no GPU on Linux, and it says so on stderr itself, in
  // the middle of every command's output: `auto` does not even try there (unless the module is
  // an injected one, as in tests, which opens no Vulkan).
  if (hardwareOnly && realModules && !vulkanLoaderPresent()) {
    return { ok: false, reason: 'no Vulkan loader (libvulkan.so.1) on this machine', enable: WEBGPU_HINT };
  }
  const m = await importOptional(load, '@voxseg/backend-webgpu');
  if ('reason' in m) return { ok: false, reason: m.reason, enable: WEBGPU_HINT };
  const mod = m.module as Partial<WebgpuModule>;
  if (typeof mod.registerWebGPUBackend !== 'function' || typeof mod.formatAdapter !== 'function') {
    return { ok: false, reason: '@voxseg/backend-webgpu does not export registerWebGPUBackend()', enable: 'update @voxseg/backend-webgpu' };
  }
  let status: Awaited<ReturnType<WebgpuModule['registerWebGPUBackend']>>;
  try {
    status = await mod.registerWebGPUBackend();
  } catch (err) {
    return { ok: false, reason: `registerWebGPUBackend() threw: ${firstLine(err)}`, enable: WEBGPU_HINT };
  }
  // The package's reason already says how to get an adapter.
  if (!status.available || !status.adapter) return { ok: false, reason: status.reason ?? 'no WebGPU adapter', enable: WEBGPU_HINT };
  const adapter = status.adapter;
  const described = mod.formatAdapter(adapter);
  if (hardwareOnly && adapter.software) {
    return { ok: false, reason: `the only WebGPU adapter is ${described}, slower than the CPU backends`, enable: 'ask for it with --backend webgpu' };
  }
  const failed = await activate('webgpu');
  if (failed) return { ok: false, reason: failed, enable: WEBGPU_HINT };
  return { ok: true, reason: `@voxseg/backend-webgpu, ${described}`, adapter };
}

/**
 * Whether the dynamic linker can find the Vulkan loader that Dawn opens on Linux: listed in
 * ld.so's cache, or present in a folder of LD_LIBRARY_PATH. Other systems: assume it can.
 */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const lib = 'libvulkan.so.1';
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':')) if (dir && existsSync(join(dir, lib))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes(lib);
  } catch {
    return true; // no cache to read (e.g. musl): let Dawn decide
  }
}

/** The contract of `@voxseg/backend-native` this module relies on. */
interface NativeModule {
  registerNativeBackend(): { available: boolean; reason?: string; threads?: number; onednn?: string };
}

async function tryNative(load: (s: string) => Promise<unknown>): Promise<Attempt> {
  const m = await importOptional(load, '@voxseg/backend-native');
  if ('reason' in m) return { ok: false, reason: m.reason, enable: NATIVE_HINT };
  const mod = m.module as Partial<NativeModule>;
  if (typeof mod.registerNativeBackend !== 'function') {
    return { ok: false, reason: '@voxseg/backend-native does not export registerNativeBackend()', enable: 'update @voxseg/backend-native' };
  }
  let status: ReturnType<NativeModule['registerNativeBackend']>;
  try {
    status = mod.registerNativeBackend();
  } catch (err) {
    return { ok: false, reason: `registerNativeBackend() threw: ${firstLine(err)}`, enable: NATIVE_HINT };
  }
  if (!status.available) {
    // The package's own reason already says how to enable it.
    return { ok: false, reason: status.reason ?? 'the addon is not available', enable: NATIVE_HINT };
  }
  const failed = await activate('native');
  if (failed) return { ok: false, reason: failed, enable: NATIVE_HINT };
  return {
    ok: true,
    reason: `@voxseg/backend-native${status.onednn ? `, oneDNN ${status.onednn}` : ''}`,
    ...(status.threads !== undefined ? { threads: status.threads } : {}),
  };
}

async function tryCpu(load: (s: string) => Promise<unknown>): Promise<Attempt> {
  const m = await importOptional(load, '@tensorflow/tfjs-backend-cpu');
  if ('reason' in m) return { ok: false, reason: m.reason, enable: 'reinstall @voxseg/core (it depends on @tensorflow/tfjs-backend-cpu)' };
  const failed = await activate('cpu');
  if (failed) return { ok: false, reason: failed, enable: 'reinstall @tensorflow/tfjs-backend-cpu' };
  return { ok: true, reason: '@tensorflow/tfjs-backend-cpu, pure JavaScript', threads: 1 };
}

interface WasmModule {
  setWasmPaths(prefix: string): void;
  getThreadsCount?(): number;
}

async function tryWasm(load: (s: string) => Promise<unknown>): Promise<Attempt> {
  const enable = 'reinstall @tensorflow/tfjs-backend-wasm (a dependency of @voxseg/core)';
  const m = await importOptional(load, '@tensorflow/tfjs-backend-wasm');
  if ('reason' in m) return { ok: false, reason: m.reason, enable };
  const wasm = m.module as WasmModule;
  if (!tf.findBackendFactory('wasm')) {
    return { ok: false, reason: '@tensorflow/tfjs-backend-wasm registered no wasm backend with this @tensorflow/tfjs-core', enable };
  }
  // Point the loader at the package's dist folder, where the .wasm binaries are installed,
  // rather than relying on paths relative to whichever bundle the module was loaded from.
  try {
    const dist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep;
    // Only before the backend is initialised: tfjs rejects new paths afterwards.
    if (!(('wasm' in tf.engine().registry))) wasm.setWasmPaths(dist);
  } catch {
    // Resolution can fail under bundlers; the package then finds its files itself.
  }
  const failed = await activate('wasm');
  if (failed) return { ok: false, reason: failed, enable };
  const threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : undefined;
  return { ok: true, reason: '@tensorflow/tfjs-backend-wasm', ...(threads !== undefined ? { threads } : {}) };
}
