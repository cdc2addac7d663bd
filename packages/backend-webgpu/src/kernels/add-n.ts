import * as tf from '@tensorflow/tfjs-core';

/**
 * `AddN` with any number of inputs. tfjs-backend-webgpu 4.22 binds every input of an AddN as
 * its own storage buffer, so `tf.addN` over more tensors than the device's
 * `maxStorageBuffersPerShaderStage` (8 to 12 on many devices, SwiftShader included; minus one
 * for the output) builds an invalid pipeline. voxseg's gradient-norm clipping adds one term per
 * weight tensor (40+ in a U-Net). Here the inputs are summed in groups that fit, then the
 * partial sums.
 */
export function addNConfig(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const backend = args.backend as tf.KernelBackend & { device: GPUDevice };
      const group = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
      // tfjs passes AddN's inputs as an array.
      let list = Object.values(args.inputs) as tf.TensorInfo[];
      if (list.length <= group) return original.kernelFunc(args);
      const made: tf.TensorInfo[] = [];
      while (list.length > group) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < list.length; i += group) {
          const part = list.slice(i, i + group);
          if (part.length === 1) {
            next.push(part[0]!);
            continue;
          }
          const sum = original.kernelFunc({ ...args, inputs: part as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
          made.push(sum);
          next.push(sum);
        }
        list = next;
      }
      const out = original.kernelFunc({ ...args, inputs: list as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
      for (const t of made) backend.disposeData(t.dataId);
      return out;
    },
  };
}
