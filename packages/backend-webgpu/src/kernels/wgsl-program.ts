import type * as tf from '@tensorflow/tfjs-core';

/**
 * A tfjs-backend-webgpu program written directly in WGSL (the fields `runWebGPUProgram` reads),
 * for voxseg's reduction and element-wise kernels. Every tensor is bound as a flat array and
 * indexed by the shader itself (a binding the shader never reads must not be listed: WebGPU's
 * automatic layout drops it); tfjs adds the bindings (`result` for the output, then one array
 * per name in `variableNames`) and a `uniforms` struct with the fields declared in `uniforms`.
 */
export class WgslProgram {
  outputShape: number[];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms: string;
  /** Module-scope declarations (workgroup memory) placed before `main`. */
  prelude = '';

  constructor(
    /** The name errors report (`WebGPU kernel <label>`). */
    readonly label: string,
    readonly shaderKey: string,
    readonly variableNames: string[],
    outputSize: number,
    uniformNames: string[],
    workgroups: number,
    threads: number,
    private readonly body: string,
  ) {
    this.outputShape = [outputSize];
    this.workgroupSize = [threads, 1, 1];
    // Workgroups beyond one dispatch dimension's limit continue in y (tfjs reshapes larger
    // flat dispatches itself, into a square that the shaders must then bound-check anyway).
    const gx = Math.max(1, Math.min(workgroups, 32768));
    this.dispatch = [gx, Math.max(1, Math.ceil(workgroups / gx)), 1];
    this.uniforms = uniformNames.map((u) => (u.includes(':') ? `${u},` : `${u} : i32,`)).join(' ');
  }

  getUserCode(): string {
    return `
      ${this.prelude}
      fn workgroupIndex() -> i32 { return i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x); }
      fn main(_flatIndex : i32) {
        ${this.body}
      }
    `;
  }
}

/** The part of tfjs-backend-webgpu's backend these kernels use. */
export interface WgslRunner extends tf.KernelBackend {
  device: GPUDevice;
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: { type: string; data: number[] }[], output?: tf.TensorInfo): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** A TensorInfo of the same data seen as a flat array (no copy). */
export function flat(t: tf.TensorInfo): tf.TensorInfo {
  return { dataId: t.dataId, dtype: t.dtype, shape: [t.shape.reduce((p, d) => p * d, 1)] };
}

/** Uniform values: integers as int32, `{ f: v }` as float32. */
export function uniformValues(values: (number | { f: number })[]): { type: string; data: number[] }[] {
  return values.map((v) => (typeof v === 'number' ? { type: 'int32', data: [v] } : { type: 'float32', data: [v.f] }));
}

/**
 * Run `program` writing into `out` (flat view), or into a new float32 tensor of `shape`.
 * Returns the output TensorInfo with its real shape.
 */
export function runWgsl(
  backend: WgslRunner,
  program: WgslProgram,
  inputs: tf.TensorInfo[],
  uniforms: (number | { f: number })[],
  shape: number[],
  out?: tf.TensorInfo,
): tf.TensorInfo {
  const target = out ?? backend.makeTensorInfo(shape, 'float32');
  backend.runWebGPUProgram(program, inputs.map(flat), 'float32', uniformValues(uniforms), flat(target));
  return { dataId: target.dataId, dtype: 'float32', shape };
}
