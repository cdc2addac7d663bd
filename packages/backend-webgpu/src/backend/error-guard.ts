/**
 * Turns WebGPU errors into exceptions.
 *
 * WebGPU reports an invalid shader, pipeline, binding or submit asynchronously, on the device:
 * the call that caused it returns normally, and a kernel whose pipeline is invalid simply does
 * not run, leaving whatever was in its output buffer. tfjs-backend-webgpu never asks for these
 * errors, so a bad kernel gives silent garbage (seen with tfjs-backend-webgpu 4.22: a rank-5
 * broadcast add compiled to an invalid shader and a training step returned a wrong loss).
 *
 * The guard:
 * - wraps every program the backend runs in a validation + out-of-memory error scope, so an
 *   error names the tfjs program that caused it;
 * - records errors outside any scope (`uncapturederror`: a submit of an invalid command
 *   buffer) and a lost device;
 * - throws a {@link WebGPUError} from the next program run once an error has been reported,
 *   and from every read (`await tensor.data()`), after waiting for the scopes still open, so a
 *   value computed by a failed kernel can never be read.
 */

/** An error WebGPU reported while running TensorFlow.js kernels. */
export class WebGPUError extends Error {
  override readonly name = 'WebGPUError';
}

/** The part of tfjs-backend-webgpu's `WebGPUBackend` the guard wraps. */
export interface GuardedBackend {
  device: GPUDevice;
  runWebGPUProgram(program: { constructor: { name: string }; shaderKey?: string; label?: string }, ...rest: unknown[]): unknown;
  read(dataId: object): Promise<unknown>;
}

/** Options of {@link installErrorGuard}. */
export interface ErrorGuardOptions {
  /**
   * Open an error scope around every program (default true). Costs two device calls per
   * kernel; without it, errors are still caught (uncaptured errors are recorded), but cannot
   * name the kernel that caused them.
   */
  errorScopes?: boolean;
}

/** What {@link installErrorGuard} returns: an explicit check, for callers that never read. */
export interface ErrorGuard {
  /** Wait for open error scopes and throw the first error reported since the last check. */
  check(): Promise<void>;
}

const GUARDED = Symbol.for('voxseg.webgpu.errorGuard');

/** Install the guard on a backend (idempotent). */
export function installErrorGuard(backend: GuardedBackend, options: ErrorGuardOptions = {}): ErrorGuard {
  const existing = (backend as unknown as Record<symbol, ErrorGuard>)[GUARDED];
  if (existing) return existing;
  const device = backend.device;
  const useScopes = options.errorScopes ?? true;
  const reported: string[] = [];
  let open: Promise<void>[] = [];

  const record = (where: string, error: GPUError | null): void => {
    if (error) reported.push(`${where}: ${error.message.trim()}`);
  };
  device.addEventListener('uncapturederror', (ev: Event) => {
    record('WebGPU', (ev as GPUUncapturedErrorEvent).error);
  });
  void device.lost.then((info) => {
    // A device destroyed on purpose (backend disposal) is not an error.
    if (info.reason !== 'destroyed') reported.push(`WebGPU device lost: ${info.message}`);
  });

  const throwReported = (): void => {
    if (reported.length === 0) return;
    // Errors a kernel's scope attributed first: they name the cause, the rest are its echoes.
    const all = reported.splice(0).sort((x, y) => Number(!x.startsWith('WebGPU kernel')) - Number(!y.startsWith('WebGPU kernel')));
    const more = all.length > 1 ? ` (and ${all.length - 1} more error${all.length > 2 ? 's' : ''})` : '';
    throw new WebGPUError(`${all[0]}${more}`);
  };

  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    throwReported();
    if (!useScopes) return run(program, ...rest);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let out: unknown;
    try {
      out = run(program, ...rest);
    } finally {
      // voxseg's generic WGSL programs carry their own label.
      const name = `WebGPU kernel ${typeof program.label === 'string' ? program.label : program.constructor.name}`;
      const validation = device.popErrorScope();
      const oom = device.popErrorScope();
      open.push(validation.then((e) => record(name, e)), oom.then((e) => record(name, e)));
      // Keep the list short in long runs without reads (settled scopes are dropped at check()).
      if (open.length > 4096) open = [Promise.all(open).then(() => undefined)];
    }
    return out;
  };

  const check = async (): Promise<void> => {
    const pending = open;
    open = [];
    await Promise.all(pending);
    throwReported();
  };

  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    await check();
    return values;
  };

  const guard: ErrorGuard = { check };
  (backend as unknown as Record<symbol, ErrorGuard>)[GUARDED] = guard;
  return guard;
}
