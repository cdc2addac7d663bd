import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_CHOICES, BackendUnavailableError, selectBackend } from './select-backend.js';

/** An importer under which the given packages are not installed (as Node reports it). */
function without(...absent: string[]): (s: string) => Promise<unknown> {
  return (s) => {
    if (!absent.includes(s)) return import(s);
    const err = Object.assign(new Error(`Cannot find package '${s}' imported from /somewhere/select-backend.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    return Promise.reject(err);
  };
}

/** Whether a package really loads in this install (tfjs-node is an optional peer). */
async function installed(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

const TFJS_NODE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

describe('selectBackend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('activates cpu when asked and logs it', async () => {
    const lines: string[] = [];
    const s = await selectBackend('cpu', { log: (l) => lines.push(l) });
    expect(s).toEqual({ requested: 'cpu', name: 'cpu', reason: '@tensorflow/tfjs-backend-cpu, pure JavaScript', threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual(['backend: cpu (@tensorflow/tfjs-backend-cpu, pure JavaScript, 1 thread)']);
  });

  it('auto picks a valid backend, reporting every skipped candidate through debug', async () => {
    const debug: string[] = [];
    const s = await selectBackend('auto', { debug: (l) => debug.push(l) });
    expect(['tensorflow', 'webgpu', 'native', 'cpu']).toContain(s.name);
    expect(tf.getBackend()).toBe(s.name);
    expect(s.requested).toBe('auto');
    const order = ['tensorflow', 'webgpu', 'native', 'cpu'];
    // Every candidate before the chosen one was skipped, with a reason.
    expect(debug.map((l) => l.match(/skipping (\w+):/)?.[1])).toEqual(order.slice(0, order.indexOf(s.name)));
    await tf.setBackend('cpu');
  });

  it('auto falls back quietly to cpu when the optional packages are absent', async () => {
    const debug: string[] = [];
    const log: string[] = [];
    const s = await selectBackend('auto', {
      importModule: without(...TFJS_NODE, '@voxseg/backend-webgpu', '@voxseg/backend-native'),
      debug: (l) => debug.push(l),
      log: (l) => log.push(l),
    });
    expect(s.name).toBe('cpu');
    expect(debug).toEqual([
      'backend auto: skipping tensorflow: @tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed',
      'backend auto: skipping webgpu: @voxseg/backend-webgpu is not installed',
      'backend auto: skipping native: @voxseg/backend-native is not installed',
    ]);
    expect(log).toHaveLength(1);
  });

  it('auto skips a native package that reports itself unavailable, with its reason', async () => {
    const debug: string[] = [];
    const s = await selectBackend('auto', {
      importModule: (spec) =>
        spec === '@voxseg/backend-native'
          ? Promise.resolve({ registerNativeBackend: () => ({ available: false, reason: 'addon not built; run npm rebuild' }) })
          : without(...TFJS_NODE, '@voxseg/backend-webgpu')(spec),
      debug: (l) => debug.push(l),
    });
    expect(s.name).toBe('cpu');
    expect(debug[2]).toBe('backend auto: skipping native: addon not built; run npm rebuild');
  });

  it('auto uses the real @voxseg/backend-native when its addon is available here', async () => {
    const native = (await import('@voxseg/backend-native').catch(() => null)) as {
      nativeBackendStatus?: () => { reason?: string };
      registerNativeBackend?: () => { available: boolean };
    } | null;
    const available = native?.registerNativeBackend?.().available === true;
    const s = await selectBackend('auto', { importModule: without(...TFJS_NODE) });
    expect(s.name).toBe(available ? 'native' : 'cpu');
    await tf.setBackend('cpu');
  });

  it('an explicit tensorflow without tfjs-node fails with one line saying why and how to enable it', async () => {
    const attempt = selectBackend('tensorflow', { importModule: without(...TFJS_NODE) });
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    const message = await attempt.catch((e: Error) => e.message);
    expect(message).toBe(
      "backend 'tensorflow' is unavailable: @tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed; " +
        'to enable it, install it with `npm install @tensorflow/tfjs-node` (or `@tensorflow/tfjs-node-gpu` for CUDA); its install script downloads libtensorflow',
    );
    expect(message).not.toContain('\n');
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(TFJS_NODE.length === 0)('in this install, explicit tensorflow matches what is installed', async () => {
    const any = (await installed('@tensorflow/tfjs-node-gpu')) || (await installed('@tensorflow/tfjs-node'));
    if (any) {
      expect((await selectBackend('tensorflow')).name).toBe('tensorflow');
      await tf.setBackend('cpu');
    } else {
      await expect(selectBackend('tensorflow')).rejects.toThrow(/@tensorflow\/tfjs-node is not installed; to enable it/);
    }
  });

  it('an explicit native that is unavailable says why', async () => {
    await expect(
      selectBackend('native', { importModule: without('@voxseg/backend-native') }),
    ).rejects.toThrow("backend 'native' is unavailable: @voxseg/backend-native is not installed; to enable it, install `@voxseg/backend-native`");
  });

  /** A stand-in for @voxseg/backend-webgpu reporting the given adapter (its contract only). */
  function webgpuPackage(adapter: { vendor: string; architecture: string; description: string; software: boolean }) {
    return {
      registerWebGPUBackend: async () => ({ available: true, adapter: { ...adapter, limits: {} } }),
      formatAdapter: (a: typeof adapter) => `${a.vendor} ${a.architecture} (${a.description})${a.software ? ', software' : ''}`,
    };
  }

  it('auto never takes a software WebGPU adapter (SwiftShader, lavapipe, llvmpipe), and says so', async () => {
    const debug: string[] = [];
    const s = await selectBackend('auto', {
      importModule: (spec) =>
        spec === '@voxseg/backend-webgpu'
          ? Promise.resolve(webgpuPackage({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', software: true }))
          : without(...TFJS_NODE, '@voxseg/backend-native')(spec),
      debug: (l) => debug.push(l),
    });
    expect(s.name).toBe('cpu');
    expect(debug[1]).toBe(
      'backend auto: skipping webgpu: the only WebGPU adapter is google swiftshader (SwiftShader driver 5.0.0), software, slower than the CPU backends',
    );
  });

  it('auto takes a hardware WebGPU adapter before native and cpu, and reports it', async () => {
    // A registered 'webgpu' factory for the stand-in package to activate (tfjs's cpu backend
    // under that name: what is tested here is the order and the report, not WebGPU).
    const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
    const hadReal = tf.findBackendFactory('webgpu') !== null;
    if (!hadReal) tf.registerBackend('webgpu', () => new MathBackendCPU());
    try {
      const log: string[] = [];
      const s = await selectBackend('auto', {
        importModule: (spec) =>
          spec === '@voxseg/backend-webgpu'
            ? Promise.resolve(webgpuPackage({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', software: false }))
            : without(...TFJS_NODE)(spec),
        log: (l) => log.push(l),
      });
      if (hadReal) return; // a real adapter is registered here; its own suite covers it
      expect(s.name).toBe('webgpu');
      expect(s.adapter).toMatchObject({ vendor: 'nvidia', software: false });
      expect(log).toEqual(['backend: webgpu (@voxseg/backend-webgpu, nvidia hopper (NVIDIA H200))']);
    } finally {
      await tf.setBackend('cpu');
      if (!hadReal) tf.removeBackend('webgpu');
    }
  });

  it('an explicit webgpu takes any adapter here, or says why there is none and how to get one', async () => {
    const pkg = (await import('@voxseg/backend-webgpu')) as { registerWebGPUBackend(): Promise<{ available: boolean }> };
    const available = (await pkg.registerWebGPUBackend()).available;
    if (available) {
      expect((await selectBackend('webgpu')).name).toBe('webgpu');
    } else {
      await expect(selectBackend('webgpu')).rejects.toThrow(/^backend 'webgpu' is unavailable: .*found no WebGPU adapter.*; to enable it, install `@voxseg\/backend-webgpu`/);
    }
    await tf.setBackend('cpu');
  });

  it('an unknown name fails listing the valid names', async () => {
    await expect(selectBackend('gpu')).rejects.toThrow("unknown backend 'gpu'; valid names: auto, tensorflow, webgpu, native, cpu, wasm");
    expect(BACKEND_CHOICES).toEqual(['auto', 'tensorflow', 'webgpu', 'native', 'cpu', 'wasm']);
  });

  it('wasm loads its binaries in Node and computes', async () => {
    const s = await selectBackend('wasm');
    expect(s.name).toBe('wasm');
    const y = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(await y.data())).toEqual([4, 6]);
    y.dispose();
    await tf.setBackend('cpu');
  });
});
