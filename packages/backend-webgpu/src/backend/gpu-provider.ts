import { createRequire } from 'node:module';

/** Where the WebGPU implementation comes from. */
export interface GpuProviderOptions {
  /**
   * Path of a `dawn.node` binary to load instead of the one inside the `webgpu` npm package
   * (for a bundled copy, e.g. on a machine without node_modules). Default: the environment
   * variable `VOXSEG_DAWN_NODE`, else the `webgpu` package.
   */
  dawnNode?: string;
  /** Extra Dawn toggles passed to `create()`, e.g. `['enable-dawn-features=allow_unsafe_apis']`. */
  dawnFlags?: string[];
}

/** The `GPU` object and where it came from. */
export interface GpuProvider {
  gpu: GPU;
  /** `navigator.gpu`, `webgpu (Dawn)` or the dawn.node path. */
  source: string;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/**
 * The `GPU` entry point: the browser's (or any host's) `navigator.gpu` when present, else Dawn
 * through the `webgpu` npm package in Node. Dawn's WebGPU constants (`GPUBufferUsage`,
 * `GPUMapMode`, ...) become globals, as in a browser, since tfjs-backend-webgpu reads them
 * there; `navigator.gpu` is set too (its backend constructor checks it).
 *
 * Throws with a one-line reason when there is no WebGPU at all.
 */
export async function getGpu(options: GpuProviderOptions = {}): Promise<GpuProvider> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, source: 'navigator.gpu' };
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error('this environment has no WebGPU (navigator.gpu is undefined)');
  }
  const path = options.dawnNode ?? process.env.VOXSEG_DAWN_NODE;
  let dawn: DawnModule;
  let source: string;
  if (path) {
    try {
      dawn = createRequire(import.meta.url)(path) as DawnModule;
    } catch (err) {
      throw new Error(`dawn.node at ${path} failed to load: ${String((err as Error).message).split('\n')[0]}`);
    }
    source = path;
  } else {
    try {
      dawn = (await import('webgpu')) as unknown as DawnModule;
    } catch (err) {
      throw new Error(`the 'webgpu' package (Dawn for Node) failed to load: ${String((err as Error).message).split('\n')[0]}`);
    }
    source = 'webgpu (Dawn)';
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = dawn.create(options.dawnFlags ?? []);
  setNavigatorGpu(gpu);
  return { gpu, source };
}

/** Make `navigator.gpu` return `gpu` (Node 20 has no navigator; Node 21+ has one without gpu). */
function setNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}
