import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relError, runOn, webgpuForTests } from '../__tests__/webgpu-test-env.js';
import { checkWebGPUErrors } from './register-webgpu.js';
import { WebGPUError } from './error-guard.js';

const status = await webgpuForTests();

describe.skipIf(!status.available)('webgpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reports its adapter: vendor, architecture, description and limits', () => {
    const a = status.adapter!;
    expect(a.vendor.length + a.architecture.length + a.description.length).toBeGreaterThan(0);
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(a.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    // SwiftShader in CI must be recognised as software (auto never picks it).
    if (/swiftshader/i.test(a.architecture + a.description)) expect(a.software).toBe(true);
  });

  it('is a working tfjs backend: add, matMul, reading with data()', async () => {
    await tf.setBackend('webgpu');
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await y.data())).toEqual([17, 39]);
    tf.dispose(y);
  });

  it('computes the rank-5 broadcast tfjs-backend-webgpu 4.22 gets wrong: [2,16,16,16,3] + [3]', async () => {
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const a = tf.ones([2, 16, 16, 16, 3]);
    const b = tf.tensor1d([1, 2, 3]);
    const outs = [tf.add(a, b), tf.mul(a, b), tf.sub(b, a), tf.div(a, b), tf.maximum(b, a)];
    const values = await Promise.all(outs.map((t) => t.data()));
    for (const [t, v] of outs.map((t, i) => [t, values[i]!] as const)) expect(t.shape).toEqual([2, 16, 16, 16, 3]);
    const expectAt = (v: ArrayLike<number>, f: (c: number) => number) => {
      for (let i = 0; i < v.length; i++) if (Math.abs(v[i]! - f((i % 3) + 1)) > 1e-6) throw new Error(`element ${i}: ${v[i]} != ${f((i % 3) + 1)}`);
    };
    expectAt(values[0]!, (c) => 1 + c);
    expectAt(values[1]!, (c) => c);
    expectAt(values[2]!, (c) => c - 1);
    expectAt(values[3]!, (c) => 1 / c);
    expectAt(values[4]!, (c) => Math.max(1, c));
    tf.dispose([a, b, ...outs]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches cpu on rank-5 broadcasts of every kind (gradients included)', async () => {
    const shapes: [number[], number[]][] = [
      [[2, 3, 4, 5, 6], [6]],
      [[2, 3, 4, 5, 6], [1]],
      [[7], [1, 2, 3, 4, 7]],
      [[2, 3, 4, 5, 6], [2, 1, 1, 1, 6]],
      [[2, 3, 4, 5, 6], [1, 3, 1, 5, 1]],
      [[1, 2, 3, 4, 5, 6], [6]],
    ];
    for (const [sa, sb] of shapes) {
      const f = () => {
        const a = tf.add(tf.div(tf.reshape(tf.range(0, sa.reduce((p, d) => p * d, 1)), sa), 100), 0.5);
        const b = tf.reshape(tf.range(1, sb.reduce((p, d) => p * d, 1) + 1), sb);
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.add(tf.mul(x, y), tf.div(x, y))))([a, b]);
        return [tf.div(a, b), ...g];
      };
      const cpu = await runOn('cpu', f);
      const gpu = await runOn('webgpu', f);
      for (let i = 0; i < cpu.length; i++) {
        // Relative to the tensor's largest value: gradients of a broadcast operand are sums of
        // hundreds of terms, added in a different order on each backend.
        expect(relError(gpu[i]!, cpu[i]!), `${sa} with ${sb}, output ${i}`).toBeLessThan(1e-6);
      }
    }
    await tf.setBackend('webgpu');
  });

  it('adds more tensors than the device has storage-buffer bindings (tf.addN of 45)', async () => {
    const f = () => tf.addN(Array.from({ length: 45 }, (_, i) => tf.fill([3, 5], i)));
    const gpu = await runOn('webgpu', f);
    expect(Array.from(gpu[0]!)).toEqual(new Array(15).fill((44 * 45) / 2));
  });

  it('transposes int32 and bool tensors (tfjs-backend-webgpu 4.22 builds an invalid shader)', async () => {
    // Large enough to run on the GPU rather than tfjs's small-tensor CPU path.
    const f = () => {
      const x = tf.reshape(tf.range(0, 2 * 3 * 4 * 5 * 60, 1, 'int32'), [2, 3, 4, 5, 60]);
      const y = tf.transpose(x, [0, 4, 2, 3, 1]);
      const b = tf.transpose(tf.greater(x, 100), [4, 1, 2, 3, 0]);
      // A float32 tensor cast from int32 keeps its int32 buffer on webgpu: the same bug.
      const c = tf.transpose(tf.cast(x, 'float32'), [3, 1, 2, 0, 4]);
      expect([y.dtype, b.dtype, c.dtype]).toEqual(['int32', 'bool', 'float32']);
      return [y, b, c];
    };
    const cpu = await runOn('cpu', f);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const gpu = await runOn('webgpu', f);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(gpu[0]!)).toEqual(Array.from(cpu[0]!));
    expect(Array.from(gpu[1]!)).toEqual(Array.from(cpu[1]!));
    expect(Array.from(gpu[2]!)).toEqual(Array.from(cpu[2]!));
  });

  it('turns a WebGPU validation error into an exception at the next read', async () => {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as { device: GPUDevice };
    // An invalid shader, as a broken kernel would produce.
    backend.device.createShaderModule({ code: 'this is not WGSL' });
    const x = tf.ones([4]);
    await expect(x.data()).rejects.toThrow(WebGPUError);
    // Reported once: the backend keeps working afterwards.
    expect(Array.from(await tf.add(x, 1).data())).toEqual([2, 2, 2, 2]);
    await checkWebGPUErrors();
    tf.dispose(x);
  });

  it('names the kernel whose program failed', async () => {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as {
      runWebGPUProgram(p: object, inputs: tf.TensorInfo[], dtype: string): tf.TensorInfo;
      disposeData(id: object): void;
    };
    class BrokenProgram {
      outputShape = [4];
      shaderKey = 'voxseg_broken_for_test';
      dispatchLayout = { x: [0] };
      dispatch: [number, number, number] = [1, 1, 1];
      variableNames: string[] = [];
      workgroupSize: [number, number, number] = [64, 1, 1];
      size = true;
      getUserCode() {
        return 'fn main() { let x : i32 = vec5(1); }';
      }
    }
    const out = backend.runWebGPUProgram(new BrokenProgram(), [], 'float32');
    await expect(checkWebGPUErrors()).rejects.toThrow(/BrokenProgram/);
    backend.disposeData(out.dataId);
  });

  it('says to use data() when dataSync() is called in Node', async () => {
    await tf.setBackend('webgpu');
    const x = tf.add(tf.ones([3]), 1);
    expect(() => x.dataSync()).toThrow(/await tensor.data\(\)/);
    tf.dispose(x);
  });
});
